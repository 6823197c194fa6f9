// The context one request's handler runs with: who is calling, from where, when, and the narrow
// ways to reach keys (all through the key-access gate, keys/access.ts) and the shared services.
import type { RequestFacts, RequestValues } from '../auth/context.js'
import { decideIdentityAccess, enforce } from '../auth/authorize.js'
import { conditionLookup, requestFactsOf } from '../auth/context.js'
import type { PolicyCache } from '../auth/policy.js'
import type { Caller } from '../auth/principals.js'
import type { Config } from '../config.js'
import type { AuthorizedKey, KeyAccess, UseKeyOptions } from '../keys/access.js'
import type { CachedKey, KeyCache } from '../keys/cache.js'
import type { LastUsage } from '../keys/last-usage.js'
import type { KeyLocation } from '../keys/resolve.js'
import type { Sweeper } from '../keys/sweeper.js'
import type { WrappingKeyGenerator } from '../keys/wrapping-keys.js'
import { DryRunOperationException } from '../protocol/errors.js'
import { normalizeIp, type KmsRequest } from '../protocol/wire.js'
import type { KeyRecord } from '../store/store.js'
import type { RootOfTrust } from '../trust/root-of-trust.js'
import type { Operation, OperationContext } from './define.js'
import { Records, type RecordStore } from './records.js'

export interface Services {
  readonly config: Config
  /** Reached by handlers only through ctx.records (records.ts) and the key-access gate. */
  readonly store: RecordStore
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
  /** The last successful cryptographic operation of each key (GetKeyLastUsage). */
  readonly lastUsage: LastUsage
}

/** The services as handlers see them: everything but the store. */
export type HandlerServices = Omit<Services, 'store'>

export class RequestContext implements OperationContext {
  readonly now: number
  readonly partition: string
  readonly facts: RequestFacts
  readonly requestId: string
  /** The key the request turned out to be about (audit `resources`). */
  keyArn: string | undefined

  private readonly access: KeyAccess
  private readonly store: RecordStore
  private recordsOfCaller: Records | undefined
  readonly services: HandlerServices
  readonly operation: Operation
  readonly caller: Caller
  readonly region: string

  constructor(
    access: KeyAccess,
    services: Services,
    operation: Operation,
    caller: Caller,
    region: string,
    req: KmsRequest,
  ) {
    this.access = access
    this.services = services
    this.store = services.store
    this.operation = operation
    this.caller = caller
    this.region = region
    this.requestId = req.requestId
    this.now = services.now()
    this.partition = services.config.partition
    this.facts = requestFactsOf(caller, {
      sourceIp: normalizeIp(req.remoteAddress),
      secure: req.secure === true,
      now: this.now,
      region,
    })
  }

  /** Built on first use: most requests (GenerateMac, VerifyMac) never list or create anything. */
  get records(): Records {
    this.recordsOfCaller ??= new Records(this.store, { accountId: this.caller.accountId, region: this.region, quotaKeys: this.services.config.quotaKeys })
    return this.recordsOfCaller
  }

  useKey(keyId: string, options: UseKeyOptions = {}): Promise<CachedKey> {
    return this.access.useKey(this, keyId, options)
  }

  updateKey(
    keyId: string,
    options: UseKeyOptions,
    change: (record: KeyRecord, arn: string) => KeyRecord | Promise<KeyRecord>,
  ): Promise<{ record: KeyRecord; arn: string }> {
    return this.access.updateKey(this, keyId, options, change)
  }

  rewriteKey(key: { accountId: string; region: string; keyId: string }, change: (record: KeyRecord) => KeyRecord): Promise<KeyRecord | undefined> {
    return this.access.rewriteKey(key, change)
  }

  readKey(keyId: string, forms: 'any' | 'idOrArn'): Promise<{ record: KeyRecord; arn: string }> {
    return this.access.readKey(this, keyId, forms)
  }

  locateKey(keyId: string, forms: 'any' | 'idOrArn'): Promise<KeyLocation> {
    return this.access.locateKey(this, keyId, forms)
  }

  authorizeAccount(action: string, resource?: string, values?: RequestValues): void {
    const target = resource ?? `arn:${this.partition}:kms:${this.region}:${this.caller.accountId}:*`
    const lookup = conditionLookup(this.facts, undefined, values)
    enforce(decideIdentityAccess(this.caller, action, target, lookup), this.caller, action, target)
  }

  isAllowedByPolicy(key: AuthorizedKey, action: string, values?: RequestValues): Promise<boolean> {
    return this.access.decide(this, key, undefined, { action, values }, false).then((d) => d.allowed)
  }

  noteKey(arn: string): void {
    this.keyArn ??= arn
  }

  dryRunSucceeded(): never {
    throw new DryRunOperationException()
  }
}
