// The KMS service: opens the store and root of trust, bootstraps the root credentials, and turns
// one HTTP request (method, headers, raw body) into one KMS response. Transport lives in server.ts.
import { createSecretKey, randomBytes, randomUUID, type KeyObject } from 'node:crypto'
import cluster from 'node:cluster'
import { mkdirSync } from 'node:fs'
import type { Logger } from 'pino'
import { CredentialResolver, newAccessKeyId, newSecretAccessKey, secretContext, type Caller, type Credential } from './auth/principals.js'
import { decideIdentityAccess, decideKeyAccess, enforce, type Decision } from './auth/authorize.js'
import { conditionLookup, type RequestFacts, type RequestValues } from './auth/context.js'
import { GrantIndex, grantIdOfToken, HMAC_GRANT_OPERATIONS, isGrantOf } from './auth/grants.js'
import { DENY_ALL, PolicyCache, type CompiledPolicy } from './auth/policy.js'
import { SigV4Verifier } from './auth/sigv4.js'
import type { Config } from './config.js'
import { keyMaterialContext, open as openEnvelope, seal } from './crypto/envelope.js'
import { keyArn } from './keys/arn.js'
import { KeyCache, type CachedKey } from './keys/cache.js'
import { assertUsable, hasExpiredMaterial, withoutMaterial } from './keys/lifecycle.js'
import { keyNotFound, locateKey, type KeyLocation, type ResolveScope } from './keys/resolve.js'
import { Sweeper } from './keys/sweeper.js'
import { Throttle, THROTTLING_MESSAGE } from './quotas/throttle.js'
import { WrappingKeyGenerator } from './keys/wrapping-keys.js'
import { OPERATIONS } from './operations/index.js'
import type { Operation, OperationContext, UseKeyOptions } from './operations/define.js'
import {
  DependencyTimeoutException,
  DryRunOperationException,
  KMSInternalException,
  KmsError,
  SerializationException,
  ThrottlingException,
  UnknownOperationException,
} from './protocol/errors.js'
import { AuditTrail } from './audit/trail.js'
import { SqliteAuditSink } from './audit/sqlite-sink.js'
import { keyedChain } from './audit/chain.js'
import { loadChainKey } from './audit/chain-key.js'
import { trialOpen } from './trial-open.js'
import { AUDIT_LIMITS, capped, requestParameters, responseElements, type AuditIdentity } from './audit/event.js'
import { Metrics, type Outcome } from './metrics/index.js'
import { applySeed, readSeed } from './seed.js'
import { openStore } from './store/index.js'
import { StoreConflictError, StoreUnavailableError, type GrantRecord, type KeyRecord, type Store } from './store/store.js'
import type { RootOfTrust } from './trust/root-of-trust.js'
import { openConfiguredRoots, type RootRing } from './trust/ring.js'

export interface Services {
  readonly config: Config
  readonly store: Store
  readonly root: RootOfTrust
  readonly keys: KeyCache
  /** Compiled key and identity policies, shared by text. */
  readonly policies: PolicyCache
  readonly now: () => number
  /** Wraps new key material under the root of trust, bound to the key's ARN. */
  sealMaterial(material: Buffer, arn: string): Promise<Buffer>
  readonly sweeper: Sweeper
  /** RSA wrapping key pairs for imports, generated under bounds. */
  readonly wrappingKeys: WrappingKeyGenerator
}

export interface KmsRequest {
  readonly method: string
  readonly url: string
  readonly headers: Record<string, string | string[] | undefined>
  readonly body: Buffer
  /** node's rawHeaders, to refuse duplicated Authorization or Host headers. */
  readonly rawHeaders?: readonly string[]
  readonly requestId: string
  /** The client's address (aws:SourceIp). */
  readonly remoteAddress?: string | undefined
  /** Whether the request came over TLS (aws:SecureTransport). */
  readonly secure?: boolean
}

export interface KmsResponse {
  readonly status: number
  /** JSON text of the body. */
  readonly body: string
  readonly operation?: string
  readonly error?: KmsError
  /** The unexpected error behind a KMSInternalException, for the log only. */
  readonly cause?: unknown
}

export interface KmsOptions {
  readonly logger: Logger
  /** Clock override for tests (epoch ms). */
  readonly now?: () => number
  /** Receives the bootstrap credentials when they are generated (printed once by `serve`). */
  readonly onGeneratedCredentials?: (accessKeyId: string, secretAccessKey: string) => void
  /** A worker of `serve --workers`: the primary already bootstrapped credentials and the seed. */
  readonly prepared?: boolean
}

const TARGET_PREFIX = 'TrentService.'
const AUDIT_UNAVAILABLE = 'The request was not performed: its audit record cannot be stored right now. Try again later.'
const STORE_UNREACHABLE = 'The service cannot reach its key store right now. Try again later.'
const JSON_CONTENT_TYPES = new Set(['application/x-amz-json-1.1', 'application/x-amz-json-1.0'])
const utf8 = new TextDecoder('utf-8', { fatal: true })

export class Kms {
  private readonly verifier: SigV4Verifier
  private readonly credentials: CredentialResolver
  readonly services: Services
  readonly audit: AuditTrail
  readonly metrics: Metrics

  readonly config: Config
  readonly store: Store
  readonly root: RootRing
  readonly now: () => number
  private readonly logger: Logger
  private readonly throttle: Throttle | undefined

  private constructor(config: Config, rawStore: Store, root: RootRing, logger: Logger, now: () => number, chainKey: Buffer) {
    this.config = config
    this.logger = logger
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
    })
    const store = this.metrics.instrument(rawStore)
    // SQLite: audit batches are written by a thread of their own (fsync and lock waits off the loop).
    const sink = config.store.kind === 'sqlite' && config.audit.enabled ? new SqliteAuditSink(config.store.path, chainKey) : undefined
    this.audit = new AuditTrail(store, config.audit, logger, keyedChain(chainKey), sink)
    this.store = store
    this.root = root
    this.now = now
    const unwrap = async (record: KeyRecord, arn: string): Promise<KeyObject | undefined> => {
      if (!record.material) return undefined
      const material = await openEnvelope(root, record.material, keyMaterialContext(arn))
      const key = createSecretKey(material)
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
      arnOf: (r) => keyArn(config.partition, r.region, r.accountId, r.keyId),
      load: async (record, arn) => {
        const grants = await store.grantsOfKey(record.accountId, record.region, record.keyId)
        return {
          record,
          arn,
          material: await unwrap(record, arn),
          policy: keyPolicyOf(policies, record),
          grants: grants.length === 0 ? GrantIndex.EMPTY : new GrantIndex(grants),
        }
      },
    })
    this.credentials = new CredentialResolver(store, config.partition, policies, async (record) => {
      const secret = await openEnvelope(root, record.secret, secretContext(record.accessKeyId))
      return secret.toString('utf8')
    })
    this.credentials.ttlMs = config.cacheTtlMs
    // SigV4 compares against the wall clock the clients sign with, even when tests shift `now`.
    this.verifier = new SigV4Verifier({ service: 'kms', clockSkewMs: config.clockSkewMs })
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
      sealMaterial: (material, arn) => seal(root, material, keyMaterialContext(arn)),
    }
  }

  static async open(config: Config, options: KmsOptions): Promise<Kms> {
    // A bad seed file is reported before anything is opened or written.
    const seed = config.seed === undefined ? undefined : readSeed(config.seed, config)
    mkdirSync(config.dataDir, { recursive: true, mode: 0o700 })
    const ring = await openConfiguredRoots(config, { createIfMissing: true })
    let store: Store | undefined
    try {
      const opened = await openStore(config.store)
      store = opened
      // Envelopes open with the configured root they name; the store may name another configured
      // root current after a rotation (trust/ring.ts).
      if (await ring.refresh(opened)) options.logger.info({ root: ring.description }, 'sealing with the current root of trust recorded in the store')
      if (ring.problem !== undefined) options.logger.error({ roots: ring.ids }, ring.problem)
      // The audit chain is keyed under a key sealed by the root of trust (audit/chain.ts).
      const chainKey = (await loadChainKey(opened, ring, options.prepared !== true))?.key
      if (chainKey === undefined) throw new Error('the store has no audit chain key (the primary makes it at start)')
      const kms = new Kms(config, opened, ring, options.logger, options.now ?? Date.now, chainKey)
      kms.followRootRotation(ring, opened, options.logger)
      if (options.prepared !== true) await kms.bootstrapRootCredentials(options.onGeneratedCredentials)
      if (seed !== undefined && options.prepared !== true) {
        const created = await applySeed(seed, opened, ring, config.partition, kms.now())
        options.logger.info({ seed: config.seed, ...created }, 'seed applied')
      }
      await kms.audit.start()
      kms.services.sweeper.start()
      return kms
    } catch (err) {
      await store?.close()
      await ring.close()
      throw err
    }
  }

  /**
   * The account root user's bootstrap access key: the configured pair (authoritative: the pair an
   * earlier start recorded is deleted when another is configured, and the log says so), or a
   * generated one on first start without configuration. The store records which pair it was
   * (setting root.bootstrap.<account>), so root keys made with `macaw access-keys create` are
   * never touched.
   */
  private async bootstrapRootCredentials(
    onGenerated: ((id: string, secret: string) => void) | undefined,
  ): Promise<void> {
    const { accountId, rootAccessKeyId, rootSecretAccessKey } = this.config
    const setting = `root.bootstrap.${accountId}`
    if (rootAccessKeyId !== undefined && rootSecretAccessKey !== undefined) {
      const existing = await this.store.getAccessKey(rootAccessKeyId)
      let current = false
      if (existing) {
        const secret = await openEnvelope(this.root, existing.secret, secretContext(rootAccessKeyId))
        current = existing.accountId === accountId && existing.userName === undefined && secret.toString('utf8') === rootSecretAccessKey
        secret.fill(0)
        if (!current) await this.store.deleteAccessKey(rootAccessKeyId)
      }
      if (!current) await this.insertRootKey(rootAccessKeyId, rootSecretAccessKey)
      const previous = await this.store.getSetting(setting)
      if (previous !== undefined && previous !== rootAccessKeyId && (await this.store.deleteAccessKey(previous))) {
        this.logger.warn(
          { accountId, accessKeyId: previous },
          'the root access key of an earlier configuration no longer matches MACAW_ROOT_ACCESS_KEY_ID and was deleted',
        )
      }
      if (previous !== rootAccessKeyId) await this.store.putSetting(setting, rootAccessKeyId)
      return
    }
    const keys = await this.store.listAccessKeys(accountId)
    if (keys.some((k) => k.userName === undefined && k.status === 'Active')) {
      this.logger.info({ accountId }, 'root credentials exist; for a new pair run `macaw access-keys create --data-dir <dir>` (or set MACAW_ROOT_ACCESS_KEY_ID and MACAW_ROOT_SECRET_ACCESS_KEY)')
      return
    }
    const id = newAccessKeyId()
    const secret = newSecretAccessKey()
    await this.insertRootKey(id, secret)
    await this.store.putSetting(setting, id)
    onGenerated?.(id, secret)
  }

  private async insertRootKey(accessKeyId: string, secretAccessKey: string): Promise<void> {
    await this.store.insertAccessKey({
      accessKeyId,
      accountId: this.config.accountId,
      secret: await seal(this.root, Buffer.from(secretAccessKey, 'utf8'), secretContext(accessKeyId)),
      status: 'Active',
      createDate: this.now(),
    })
  }

  async close(): Promise<void> {
    this.services.sweeper.stop()
    await this.services.sweeper.release()
    if (this.rootTimer !== undefined) clearInterval(this.rootTimer)
    await this.audit.close()
    this.services.keys.close()
    this.credentials.close()
    await this.store.close()
    await this.root.close()
  }

  private rootTimer: NodeJS.Timeout | undefined

  /** Looks for a new current root of trust (a rotation) every few seconds. */
  followRootRotation(ring: RootRing, store: Store, logger: Logger): void {
    let reported: string | undefined
    this.rootTimer = setInterval(() => {
      ring.refresh(store).then(
        (changed) => {
          if (changed) logger.info({ root: ring.description }, 'the root of trust was rotated: sealing with the new root')
          if (ring.problem !== reported && ring.problem !== undefined) logger.error({ roots: ring.ids }, ring.problem)
          reported = ring.problem
        },
        (err: unknown) => logger.error({ err }, 'cannot follow the root of trust rotation'),
      )
    }, 5000)
    this.rootTimer.unref()
  }

  /** Handles one KMS API request. Never throws: every failure becomes a KMS error response. */
  async handle(req: KmsRequest): Promise<KmsResponse> {
    const started = performance.now()
    const facts: Partial<Observed> = {}
    let response: KmsResponse
    try {
      if (!this.audit.admit()) {
        facts.unaudited = true
        // The store being down is an outage like any other (retried by SDKs); else our fault.
        if (this.audit.storeUnreachable) throw new DependencyTimeoutException(STORE_UNREACHABLE)
        throw new KMSInternalException(AUDIT_UNAVAILABLE)
      }
      const operation = this.operationOf(req)
      facts.operation = operation
      // Changes other processes made (a deleted access key, a revoked grant) count from now on.
      this.store.catchUp()
      // The signature first: the body of a request that does not verify is never parsed.
      const verified = await this.verifier.verify(req, (id: string) => this.lookupCredential(id))
      facts.caller = verified.principal.caller
      facts.region = verified.region
      const body = parseBody(req.body)
      facts.body = body as Record<string, unknown>
      // Counted against the caller's account, also for another account's key (as AWS does).
      if (this.throttle !== undefined && !this.throttle.take(verified.principal.caller.accountId, verified.region, operation.name, Date.now())) {
        throw new ThrottlingException(THROTTLING_MESSAGE)
      }
      const ctx = new RequestContext(this, operation, verified.principal.caller, verified.region, req)
      facts.ctx = ctx
      const output = await operation.execute(ctx, body)
      facts.output = output as Record<string, unknown>
      response = { status: 200, body: JSON.stringify(output), operation: operation.name }
    } catch (err) {
      response = this.errorResponse(err, facts.operation?.name)
    }
    this.observe(req, started, response, facts)
    return response
  }

  /** A request the transport refused before routing it (oversized body, wrong path). */
  refuse(req: KmsRequest, error: KmsError): KmsResponse {
    const response = this.errorResponse(error, undefined)
    this.observe(req, performance.now(), response, {})
    return response
  }

  private readiness: { at: number; problems: string[] } | undefined

  /** Can this node serve? The store answers and the root of trust wraps and unwraps (cached 2 s). */
  async ready(): Promise<string[]> {
    const now = performance.now()
    if (this.readiness === undefined || now - this.readiness.at >= 2000) this.readiness = { at: now, problems: await this.probe() }
    // The audit state is read afresh: it changes with every write.
    return this.audit.enabled && !this.audit.healthy ? [...this.readiness.problems, 'audit: records cannot be stored'] : this.readiness.problems
  }

  /** Store and root-of-trust problems. Details go to the log; the answer (seen by anyone) names only what is wrong. */
  private async probe(): Promise<string[]> {
    const problems: string[] = []
    try {
      await this.store.getAccessKey('AKIAMACAWREADINESS00')
    } catch (err) {
      this.logger.error({ err }, 'readiness: the store does not answer')
      problems.push('store: not reachable')
    }
    try {
      const probe = randomBytes(32)
      const back = await this.root.unwrapKey(await this.root.wrapKey(probe))
      if (!back.equals(probe)) problems.push('root of trust: unwrap returned other bytes')
    } catch (err) {
      this.logger.error({ err }, 'readiness: the root of trust does not wrap and unwrap')
      problems.push('root of trust: not usable')
    }
    // A root that works but is not the one the store was sealed under (a restore with the wrong
    // key) would answer every MAC with 500: open a sample of stored envelopes, once a minute.
    const now = performance.now()
    if (this.sealedCheck === undefined || now - this.sealedCheck.at >= 60_000) {
      let failed = 0
      try {
        failed = await trialOpen(this.store, this.root, this.config.partition)
      } catch (err) {
        this.logger.error({ err }, 'readiness: cannot read stored envelopes to try them')
      }
      if (failed > 0) this.logger.error({ failed }, 'readiness: the root of trust cannot open sampled stored secrets')
      this.sealedCheck = { at: now, ok: failed === 0 }
    }
    if (!this.sealedCheck.ok) problems.push('root of trust: cannot open stored secrets')
    if (this.root.problem !== undefined) problems.push(this.root.problem)
    return problems
  }

  private sealedCheck: { at: number; ok: boolean } | undefined

  /** One audit record and the request metrics for every request, whatever its outcome. */
  private observe(req: KmsRequest, started: number, response: KmsResponse, facts: Partial<Observed>): void {
    const name = facts.operation?.name ?? targetName(req)
    const error = response.error?.code
    const outcome: Outcome = response.status < 400 ? 'success' : response.status < 500 ? 'client_error' : 'server_error'
    this.metrics.observeRequest(facts.operation?.name ?? 'Unknown', outcome, error ?? '', (performance.now() - started) / 1000)
    if (!this.audit.enabled || facts.unaudited === true) return
    const caller = facts.caller
    const identity: AuditIdentity = caller
      ? {
          type: caller.isRoot ? 'Root' : 'IAMUser',
          arn: caller.arn,
          accountId: caller.accountId,
          accessKeyId: caller.accessKeyId,
          ...(caller.userName === undefined ? {} : { userName: caller.userName }),
        }
      : { type: 'Unknown', ...accessKeyIdOf(req) }
    this.audit.record({
      time: this.now(),
      requestId: req.requestId,
      eventId: AuditTrail.eventId(),
      operation: name,
      readOnly: facts.operation?.readOnly ?? false,
      region: facts.region ?? this.config.region,
      sourceIp: facts.ctx?.facts.sourceIp ?? normalizeIp(req.remoteAddress),
      userAgent: capped(headerValue(req.headers['user-agent']), AUDIT_LIMITS.userAgentChars),
      identity,
      // The body of a request whose signature did not verify is not kept: anyone could send it.
      requestParameters: caller ? requestParameters(facts.body) : null,
      responseElements: error === undefined ? responseElements(name, facts.output) : null,
      errorCode: error,
      errorMessage: response.error?.hasMessage === true ? response.error.message : undefined,
      keyArn: facts.ctx?.keyArn,
    })
  }

  private lookupCredential(accessKeyId: string): Promise<Credential | undefined> {
    return this.credentials.resolve(accessKeyId)
  }

  private operationOf(req: KmsRequest): Operation {
    if (req.method !== 'POST') {
      throw new UnknownOperationException(`Method ${req.method} is not supported; KMS requests are POST /.`)
    }
    const contentType = headerValue(req.headers['content-type'])?.split(';')[0]?.trim().toLowerCase()
    if (contentType === undefined || !JSON_CONTENT_TYPES.has(contentType)) {
      throw new UnknownOperationException(
        `Content-Type must be application/x-amz-json-1.1, got '${contentType ?? ''}'.`,
      )
    }
    const target = headerValue(req.headers['x-amz-target'])
    if (target === undefined || !target.startsWith(TARGET_PREFIX)) {
      throw new UnknownOperationException('X-Amz-Target must name a TrentService operation.')
    }
    const name = target.slice(TARGET_PREFIX.length)
    // Object.hasOwn: `TrentService.constructor` must not reach the object's prototype.
    if (!Object.hasOwn(OPERATIONS, name)) {
      throw new UnknownOperationException(`Operation ${name.slice(0, 64)} is not supported by this service.`)
    }
    return OPERATIONS[name] as Operation
  }

  private errorResponse(err: unknown, operation: string | undefined): KmsResponse {
    if (err instanceof KmsError) {
      const body = err.hasMessage ? { __type: err.code, message: err.message } : { __type: err.code }
      return { status: err.status, body: JSON.stringify(body), error: err, ...(operation ? { operation } : {}) }
    }
    // Our fault, not the caller's: a 5xx without details; the cause goes to the log only.
    const fault =
      err instanceof StoreUnavailableError
        ? new DependencyTimeoutException(STORE_UNREACHABLE, { cause: err })
        : new KMSInternalException('An internal error occurred. Try again later.', { cause: err })
    return {
      status: fault.status,
      body: JSON.stringify({ __type: fault.code, message: fault.message }),
      error: fault,
      cause: err,
      ...(operation ? { operation } : {}),
    }
  }

  /** Called by the request context: resolve + cache + authorize + state. */
  async useKey(ctx: RequestContext, text: string, options: UseKeyOptions): Promise<CachedKey> {
    const loc = await locateKey(this.scopeOf(ctx), text, options.forms)
    let key = await this.services.keys.getKey(loc.accountId, loc.region, loc.keyId)
    if (!key || this.isDeleted(key.record)) throw keyNotFound(this.config.partition, loc)
    if (hasExpiredMaterial(key.record, this.now())) {
      // ValidTo has passed: the key is PendingImport now, even before the expiry job stores that.
      key = { ...key, record: withoutMaterial(key.record), material: undefined }
      this.services.sweeper.wake()
    }
    ctx.keyArn ??= key.arn
    const action = options.action ?? ctx.operation.action
    enforce(await this.decide(ctx, key, loc.viaAlias, options, true), ctx.caller, action, key.arn)
    assertUsable(key.arn, key.record.state, options.usableIn)
    return key
  }

  /**
   * The authorization decision for a key: key policy, identity policy, and (if `withGrants`) the
   * key's grants and those named by the request's grant tokens.
   */
  async decide(
    ctx: RequestContext,
    key: Pick<CachedKey, 'record' | 'arn' | 'policy' | 'grants'>,
    viaAlias: string | undefined,
    options: Pick<UseKeyOptions, 'action' | 'grantTokens' | 'values'>,
    withGrants: boolean,
  ): Promise<Decision> {
    const action = options.action ?? ctx.operation.action
    const { record } = key
    const tokenGrants = await this.grantsOfTokens(options.grantTokens, key)
    const wantsAliases =
      key.policy.conditionKeys.has('kms:resourcealiases') || ctx.caller.identity?.conditionKeys.has('kms:resourcealiases') === true
    const resourceAliases = wantsAliases
      ? (await this.store.listAliases(record.accountId, record.region, { keyId: record.keyId, limit: 50 })).items.map((a) => a.aliasName)
      : undefined
    const lookup = conditionLookup(ctx.facts, { record, requestAlias: viaAlias, resourceAliases }, options.values)
    const ownAction = action === ctx.operation.action
    return decideKeyAccess(
      ctx.caller,
      { accountId: record.accountId, arn: key.arn, policy: key.policy, grants: withGrants ? key.grants : GrantIndex.EMPTY },
      {
        action,
        crossAccount: ctx.operation.crossAccount,
        grantOperation: withGrants && ownAction && GRANTABLE.has(ctx.operation.name) ? ctx.operation.name : undefined,
        tokenGrants: withGrants ? tokenGrants : undefined,
        lookup,
      },
    )
  }

  /**
   * Grants named by grant tokens that the key's cached index does not hold yet (made through
   * another node a moment ago). A malformed token is InvalidGrantTokenException.
   */
  private async grantsOfTokens(
    tokens: readonly string[] | undefined,
    key: Pick<CachedKey, 'record' | 'grants'>,
  ): Promise<GrantRecord[] | undefined> {
    if (tokens === undefined || tokens.length === 0) return undefined
    const ids = tokens.map(grantIdOfToken)
    const found: GrantRecord[] = []
    for (const id of ids) {
      if (key.grants.has(id)) continue
      const grant = await this.store.getGrant(id)
      if (grant && isGrantOf(grant, key.record)) found.push(grant)
    }
    return found
  }

  async updateKey(
    ctx: RequestContext,
    text: string,
    options: UseKeyOptions,
    change: (record: KeyRecord, arn: string) => KeyRecord | Promise<KeyRecord>,
  ): Promise<{ record: KeyRecord; arn: string }> {
    const loc = await locateKey(this.scopeOf(ctx), text, options.forms)
    for (let attempt = 0; ; attempt++) {
      const record = await this.store.getKey(loc.accountId, loc.region, loc.keyId)
      if (!record || this.isDeleted(record)) throw keyNotFound(this.config.partition, loc)
      const arn = keyArn(this.config.partition, record.region, record.accountId, record.keyId)
      ctx.keyArn ??= arn
      const access = { record, arn, policy: keyPolicyOf(this.services.policies, record), grants: GrantIndex.EMPTY }
      enforce(await this.decide(ctx, access, loc.viaAlias, options, false), ctx.caller, options.action ?? ctx.operation.action, arn)
      assertUsable(arn, record.state, options.usableIn)
      const next = await change(record, arn)
      if (next === record) return { record, arn }
      try {
        return { record: await this.store.updateKey(next), arn }
      } catch (err) {
        // Another writer changed the key between our read and write: re-read and re-check.
        if (err instanceof StoreConflictError && attempt < 10) continue
        throw err
      }
    }
  }

  /** A key whose deletion window has passed is gone, even before the sweeper removes it. */
  isDeleted(record: KeyRecord): boolean {
    if (record.state !== 'PendingDeletion' || record.deletionDate === undefined) return false
    if (record.deletionDate > this.now()) return false
    this.services.sweeper.wake()
    return true
  }

  scopeOf(ctx: RequestContext): ResolveScope {
    return {
      partition: this.config.partition,
      accountId: ctx.caller.accountId,
      region: ctx.region,
      aliasTarget: (a, r, n) => this.services.keys.getAliasTarget(a, r, n),
    }
  }
}

class RequestContext implements OperationContext {
  readonly now: number
  readonly partition: string
  readonly services: Services
  readonly facts: RequestFacts

  private readonly kms: Kms
  readonly operation: Operation
  readonly caller: Caller
  readonly region: string
  readonly requestId: string
  /** The key the request turned out to be about (audit `resources`). */
  keyArn: string | undefined

  constructor(kms: Kms, operation: Operation, caller: Caller, region: string, req: KmsRequest) {
    this.kms = kms
    this.operation = operation
    this.caller = caller
    this.region = region
    this.requestId = req.requestId
    this.now = kms.now()
    this.partition = kms.config.partition
    this.services = kms.services
    this.facts = {
      principalArn: caller.arn,
      accountId: caller.accountId,
      isRoot: caller.isRoot,
      userName: caller.userName,
      sourceIp: normalizeIp(req.remoteAddress),
      secure: req.secure === true,
      now: this.now,
      region,
    }
  }

  useKey(keyId: string, options: UseKeyOptions): Promise<CachedKey> {
    return this.kms.useKey(this, keyId, options)
  }

  updateKey(
    keyId: string,
    options: UseKeyOptions,
    change: (record: KeyRecord, arn: string) => KeyRecord | Promise<KeyRecord>,
  ): Promise<{ record: KeyRecord; arn: string }> {
    return this.kms.updateKey(this, keyId, options, change)
  }

  locateKey(keyId: string, forms: 'any' | 'idOrArn'): Promise<KeyLocation> {
    return locateKey(this.kms.scopeOf(this), keyId, forms)
  }

  authorizeAccount(action: string, resource?: string, values?: RequestValues): void {
    const target = resource ?? `arn:${this.partition}:kms:${this.region}:${this.caller.accountId}:*`
    const lookup = conditionLookup(this.facts, undefined, values)
    enforce(decideIdentityAccess(this.caller, action, target, lookup), this.caller, action, target)
  }

  isAllowedByPolicy(key: CachedKey, action: string, values?: RequestValues): Promise<boolean> {
    return this.kms.decide(this, key, undefined, { action, values }, false).then((d) => d.allowed)
  }

  noteKey(arn: string): void {
    this.keyArn ??= arn
  }

  dryRunSucceeded(): never {
    throw new DryRunOperationException()
  }
}

interface Observed {
  /** Refused because its record could not have been stored. */
  unaudited: boolean
  operation: Operation
  body: Record<string, unknown>
  caller: Caller
  region: string
  ctx: RequestContext
  output: Record<string, unknown>
}

/** The operation name a request asked for, for the audit record of a request we could not route. */
function targetName(req: KmsRequest): string {
  const target = headerValue(req.headers['x-amz-target'])
  if (target === undefined) return 'Unknown'
  const name = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : target
  return name.replace(/[^\w.-]/g, '?').slice(0, 64) || 'Unknown'
}

/** The access key id a request claims to be signed with (for the audit of a refused signature). */
function accessKeyIdOf(req: KmsRequest): { accessKeyId?: string } {
  const m = /Credential=([A-Z0-9]{16,128})\//.exec(headerValue(req.headers['authorization']) ?? '')
  return m?.[1] === undefined ? {} : { accessKeyId: m[1] }
}

const GRANTABLE: ReadonlySet<string> = new Set(HMAC_GRANT_OPERATIONS)

/** The compiled key policy; one that cannot be compiled denies everything (fail closed). */
function keyPolicyOf(policies: PolicyCache, record: KeyRecord): CompiledPolicy {
  try {
    return policies.get(record.policy, 'key')
  } catch {
    return DENY_ALL
  }
}

/** IPv4 clients on a dual-stack socket show up as ::ffff:a.b.c.d. */
function normalizeIp(address: string | undefined): string | undefined {
  return address?.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value
}

/** The body must be one JSON object in valid UTF-8; an empty body reads as `{}`. */
function parseBody(raw: Buffer): unknown {
  if (raw.length === 0) return {}
  let text: string
  try {
    text = utf8.decode(raw)
  } catch {
    throw new SerializationException('The request body is not valid UTF-8.')
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new SerializationException('The request body is not valid JSON.')
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SerializationException('The request body must be a JSON object.')
  }
  return value
}

export function newRequestId(): string {
  return randomUUID()
}
