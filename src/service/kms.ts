// The KMS service of one process: turns one HTTP request (method, headers, raw body) into one KMS
// response. The order of one request: admission (audit can store its record), the protocol envelope
// (protocol/wire.ts), SigV4, the body, throttling, then the operation's handler with its context
// (operations/context.ts), which reaches keys only through the key-access gate (keys/access.ts).
// Every outcome is observed (service/observe.ts). Built by service/open.ts; transport in server.ts.
import cluster from 'node:cluster'
import type { Logger } from 'pino'
import { keyedChain } from '../audit/chain.js'
import { SqliteAuditSink } from '../audit/sqlite-sink.js'
import { AuditTrail } from '../audit/trail.js'
import type { ChainKey } from '../audit/chain-key.js'
import { ChainVerifier } from '../audit/verifier.js'
import { GrantIndex } from '../auth/grants.js'
import { PolicyCache } from '../auth/policy.js'
import { CredentialResolver, secretContext } from '../auth/principals.js'
import { SessionTokens } from '../auth/session-token.js'
import { SigV4Verifier } from '../auth/sigv4.js'
import type { Config } from '../config.js'
import { keyMaterialContext, open as openEnvelope, seal } from '../crypto/envelope.js'
import { MacKey } from '../crypto/hmac.js'
import { KeyAccess, keyPolicyOf } from '../keys/access.js'
import { keyArn } from '../keys/arn.js'
import { KeyCache } from '../keys/cache.js'
import { LastUsage } from '../keys/last-usage.js'
import { Sweeper } from '../keys/sweeper.js'
import { WrappingKeyGenerator } from '../keys/wrapping-keys.js'
import { Metrics } from '../metrics/index.js'
import { RequestContext, type Services } from '../operations/context.js'
import type { Operation } from '../operations/define.js'
import { OPERATIONS } from '../operations/index.js'
import { ThrottlingException, type KmsError } from '../protocol/errors.js'
import { errorResponse, operationName, parseBody, unauditedError, type KmsRequest, type KmsResponse } from '../protocol/wire.js'
import { Throttle, THROTTLING_MESSAGE } from '../quotas/throttle.js'
import type { KeyRecord, Store } from '../store/store.js'
import { CURRENT_ROOT, type RootRing } from '../trust/ring.js'
import { Sts } from '../sts/service.js'
import { CloudTrail } from '../cloudtrail/service.js'
import { WebIdentityVerifier } from '../sts/web-identity.js'
import { Readiness } from './health.js'
import { Observer, type Observed } from './observe.js'

export type { KmsRequest, KmsResponse } from '../protocol/wire.js'

export interface KmsOptions {
  readonly logger: Logger
  /** Clock override for tests (epoch ms). */
  readonly now?: () => number
  /** Receives the bootstrap credentials when they are generated (printed once by `serve`). */
  readonly onGeneratedCredentials?: (accessKeyId: string, secretAccessKey: string) => void
  /** A worker of `serve --workers`: the primary already bootstrapped credentials and the seed. */
  readonly prepared?: boolean
}


/** Object.hasOwn: `TrentService.constructor` must not reach the table's prototype. */
const isOperation = (name: string): boolean => Object.hasOwn(OPERATIONS, name)

export class Kms {
  readonly config: Config
  readonly store: Store
  readonly root: RootRing
  readonly now: () => number
  readonly services: Services
  readonly audit: AuditTrail
  readonly metrics: Metrics
  private readonly verifier: SigV4Verifier
  readonly credentials: CredentialResolver
  readonly tokens: SessionTokens
  /** The STS endpoint on the same port (Query-protocol requests). */
  readonly sts: Sts
  /** CloudTrail's LookupEvents over the audit trail, on the same port. */
  readonly cloudtrail: CloudTrail
  private readonly throttle: Throttle | undefined
  private readonly access: KeyAccess
  private readonly observer: Observer
  private readonly readiness: Readiness
  /** The audit chain, verified while running (one process of the deployment holds its lease). */
  readonly chainVerifier: ChainVerifier
  private rootTimer: NodeJS.Timeout | undefined
  private stopRootNotices: (() => void) | undefined

  /** Wires the caches and gates of one process over an opened store and root (service/open.ts). */
  constructor(config: Config, rawStore: Store, root: RootRing, logger: Logger, now: () => number, chainKey: ChainKey, sessionKey: Buffer) {
    this.config = config
    // Each worker of `serve --workers N` enforces 1/N of every rate.
    this.throttle = config.throttle === undefined ? undefined : new Throttle(config.throttle, cluster.isWorker ? config.workers : 1)
    const later: { keys?: KeyCache; policies?: PolicyCache } = {}
    this.metrics = new Metrics({
      cacheHits: () => later.keys?.hits ?? 0,
      cacheMisses: () => later.keys?.misses ?? 0,
      cachedKeys: () => later.keys?.size ?? 0,
      cacheBytes: () => (later.keys?.sizeBytes ?? 0) + (later.policies?.size ?? 0),
      auditBacklog: () => this.audit.backlog,
      auditWritten: () => this.audit.written,
      auditFailures: () => this.audit.failures,
      auditHealthy: () => (this.audit.healthy ? 1 : 0),
      auditRefused: () => this.audit.refused,
      auditDropped: () => this.audit.dropped,
      auditSummarised: () => this.audit.summarised,
      throttled: () => this.throttle?.throttled ?? 0,
      auditChain: () => {
        const r = this.chainVerifier.report
        return { verified: r.verified, broken: r.problem !== undefined, checkedAt: r.checkedAt }
      },
    })
    const store = this.metrics.instrument(rawStore)
    // SQLite: audit batches are written by a thread of their own (fsync and lock waits off the loop).
    const sink = config.store.kind === 'sqlite' && config.audit.enabled ? new SqliteAuditSink(config.store.path, chainKey.key) : undefined
    this.audit = new AuditTrail(store, config.audit, logger, keyedChain(chainKey.key), sink)
    this.chainVerifier = new ChainVerifier(store, chainKey, logger)
    this.store = store
    this.root = root
    this.now = now
    const unwrap = async (record: KeyRecord, arn: string): Promise<MacKey | undefined> => {
      if (!record.material) return undefined
      const material = await openEnvelope(root, record.material, keyMaterialContext(arn))
      const key = new MacKey(material)
      material.fill(0)
      return key
    }
    // --cache-max-mb: 70% for keys (with their policies and grants) and aliases, 20% for compiled
    // policies by text; credentials, signing keys and unknown ids are bounded by count (docs/limits.md).
    const policies = new PolicyCache(Math.floor(config.cacheMaxBytes * 0.2))
    const keys = new KeyCache(store, {
      ttlMs: config.cacheTtlMs,
      maxBytes: Math.floor(config.cacheMaxBytes * 0.7),
      now,
      arnOf: (accountId, region, keyId) => keyArn(config.partition, region, accountId, keyId),
      load: async (record, arn) => {
        // The record counts its grants: most keys have none, and then there is nothing to read.
        const grants = record.grantCount === 0 ? [] : await store.grantsOfKey(record.accountId, record.region, record.keyId)
        const policy = keyPolicyOf(policies, record)
        return {
          material: await unwrap(record, arn),
          policy,
          grants: grants.length === 0 ? GrantIndex.EMPTY : new GrantIndex(grants),
        }
      },
    })
    this.tokens = new SessionTokens(sessionKey)
    this.credentials = new CredentialResolver(
      store,
      config.partition,
      policies,
      async (record) => {
        const secret = await openEnvelope(root, record.secret, secretContext(record.accessKeyId))
        return secret.toString('utf8')
      },
      { tokens: this.tokens, clock: now },
    )
    this.credentials.ttlMs = config.cacheTtlMs
    // SigV4 compares against the wall clock the clients sign with, even when tests shift `now`.
    this.verifier = new SigV4Verifier({ service: 'kms', clockSkewMs: config.clockSkewMs, regions: config.regions })
    later.keys = keys
    later.policies = policies
    const sweeper = new Sweeper(store, logger, now, config.sweepIntervalMs)
    this.services = {
      config,
      store,
      root,
      keys,
      policies,
      now,
      sweeper,
      wrappingKeys: new WrappingKeyGenerator(),
      // SQLite: flushed by the audit writer thread when there is one (audit/sqlite-sink.ts).
      lastUsage: new LastUsage(store, sink),
      sealMaterial: (material, arn) => seal(root, material, keyMaterialContext(arn)),
    }
    this.access = new KeyAccess(config.partition, store, keys, policies, sweeper, now)
    this.observer = new Observer(this.metrics, this.audit, this.services.lastUsage, config.region, now)
    this.sts = new Sts(
      config,
      { partition: config.partition, credentials: this.credentials, identities: store, tokens: this.tokens, policies, webIdentity: new WebIdentityVerifier(now) },
      this.audit,
      this.metrics,
      logger,
      now,
    )
    this.cloudtrail = new CloudTrail(config, this.credentials, store, this.audit, this.metrics, now, this.throttle)
    this.readiness = new Readiness(store, root, this.audit, config.partition, logger)
  }

  /** Handles one KMS API request. Never throws: every failure becomes a KMS error response. */
  async handle(req: KmsRequest): Promise<KmsResponse> {
    const started = performance.now()
    const facts: Partial<Observed> = {}
    let response: KmsResponse
    try {
      // While the audit writer is behind, this waits for it rather than add to its backlog.
      if (!(await this.audit.admitWhenRoom())) {
        facts.unaudited = true
        throw unauditedError(this.audit.storeUnreachable)
      }
      const operation = OPERATIONS[operationName(req, isOperation)] as Operation
      facts.operation = operation
      // Changes other processes made (a deleted access key, a revoked grant) count from now on.
      this.store.catchUp()
      // The signature first: the body of a request that does not verify is never parsed.
      const verified = await this.credentials.verify(this.verifier, req)
      facts.caller = verified.principal.caller
      facts.region = verified.region
      const body = parseBody(req.body)
      facts.body = body
      // Counted against the caller's account, also for another account's key (as AWS does).
      if (this.throttle !== undefined && !this.throttle.take(verified.principal.caller.accountId, verified.region, operation.name, Date.now())) {
        throw new ThrottlingException(THROTTLING_MESSAGE)
      }
      const ctx = new RequestContext(this.access, this.services, operation, verified.principal.caller, verified.region, req)
      facts.ctx = ctx
      const output = await operation.execute(ctx, body)
      facts.output = output as Record<string, unknown>
      response = { status: 200, body: JSON.stringify(output), operation: operation.name }
    } catch (err) {
      response = errorResponse(err, facts.operation?.name)
    }
    this.observer.observe(req, started, response, facts)
    return response
  }

  /** A request the transport refused before routing it (oversized body, wrong path). */
  refuse(req: KmsRequest, error: KmsError): KmsResponse {
    const response = errorResponse(error, undefined)
    this.observer.observe(req, performance.now(), response, {})
    return response
  }

  /** Can this node serve? Empty when ready (service/health.ts). */
  ready(): Promise<string[]> {
    return this.readiness.problems()
  }

  /**
   * Follows a rotation of the root of trust: at once when the store announces a new current root
   * (`macaw root rotate` writes it with putSetting), and every few seconds in case a notice was
   * missed (a change feed outage).
   */
  followRootRotation(logger: Logger): void {
    let reported: string | undefined
    const refresh = (): void => {
      this.root.refresh(this.store).then(
        (changed) => {
          if (changed) logger.info({ root: this.root.description }, 'the root of trust was rotated: sealing with the new root')
          if (this.root.problem !== reported && this.root.problem !== undefined) logger.error({ roots: this.root.ids }, this.root.problem)
          reported = this.root.problem
        },
        (err: unknown) => logger.error({ err }, 'cannot follow the root of trust rotation'),
      )
    }
    this.rootTimer = setInterval(refresh, 5000)
    this.rootTimer.unref()
    this.stopRootNotices = this.store.onChange((change) => {
      if ((change.kind === 'setting' && change.name === CURRENT_ROOT) || change.kind === 'unknown') refresh()
    })
  }

  async close(): Promise<void> {
    this.services.sweeper.stop()
    await this.services.sweeper.release()
    if (this.rootTimer !== undefined) clearInterval(this.rootTimer)
    this.stopRootNotices?.()
    await this.chainVerifier.stop()
    // Key uses first: their last flush may go through the audit writer thread, which audit.close() ends.
    await this.services.lastUsage.close()
    await this.audit.close()
    this.services.keys.close()
    this.credentials.close()
    await this.store.close()
    await this.root.close()
  }
}
