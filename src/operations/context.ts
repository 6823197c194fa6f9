// The context one request's handler runs with: who is calling, from where, when, and the narrow
// ways to reach keys (all through the key-access gate, keys/access.ts) and the shared services.
import type { RequestFacts, RequestValues } from '../auth/context.js'
import { decideIdentityAccess, enforce } from '../auth/authorize.js'
import { conditionLookup } from '../auth/context.js'
import type { PolicyCache } from '../auth/policy.js'
import type { Caller } from '../auth/principals.js'
import type { Config } from '../config.js'
import type { KeyAccess, UseKeyOptions } from '../keys/access.js'
import type { CachedKey, KeyCache } from '../keys/cache.js'
import type { LastUsage } from '../keys/last-usage.js'
import type { KeyLocation } from '../keys/resolve.js'
import type { Sweeper } from '../keys/sweeper.js'
import type { WrappingKeyGenerator } from '../keys/wrapping-keys.js'
import { DryRunOperationException } from '../protocol/errors.js'
import { normalizeIp, type KmsRequest } from '../protocol/wire.js'
import type { KeyRecord, Store } from '../store/store.js'
import type { RootOfTrust } from '../trust/root-of-trust.js'
import type { Operation, OperationContext } from './define.js'

/**
 * The store as handlers see it: what they list, create and delete. Keys are read and changed only
 * through the key-access gate (ctx.useKey, ctx.updateKey, ctx.readKey, ctx.rewriteKey), which
 * applies authorization, key state, the deletion window and the retry on conflicting writes.
 */
export type HandlerStore = Pick<
  Store,
  | 'insertKey'
  | 'countKeys'
  | 'listKeys'
  | 'listRelatedKeys'
  | 'insertAlias'
  | 'getAlias'
  | 'updateAlias'
  | 'deleteAlias'
  | 'countAliasesForKey'
  | 'listAliases'
  | 'createGrant'
  | 'getGrant'
  | 'deleteGrant'
  | 'listGrants'
  | 'listRetirableGrants'
  | 'getUser'
>

export interface Services {
  readonly config: Config
  readonly store: HandlerStore
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

export class RequestContext implements OperationContext {
  readonly now: number
  readonly partition: string
  readonly facts: RequestFacts
  readonly requestId: string
  /** The key the request turned out to be about (audit `resources`). */
  keyArn: string | undefined

  private readonly access: KeyAccess
  readonly services: Services
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
    this.operation = operation
    this.caller = caller
    this.region = region
    this.requestId = req.requestId
    this.now = services.now()
    this.partition = services.config.partition
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

  isAllowedByPolicy(key: CachedKey, action: string, values?: RequestValues): Promise<boolean> {
    return this.access.decide(this, key, undefined, { action, values }, false).then((d) => d.allowed)
  }

  noteKey(arn: string): void {
    this.keyArn ??= arn
  }

  dryRunSucceeded(): never {
    throw new DryRunOperationException()
  }
}
