// Key access, the one gate every handler goes through to touch a key: resolve the KeyId (id, ARN,
// alias), load it (cache), authorize (key policy, identity policy, grants, grant tokens) and check
// its state for the operation. Reads go through the key cache; read-modify-writes re-read the
// store and retry on a conflicting write.
import { decideKeyAccess, enforce, type Decision } from '../auth/authorize.js'
import { conditionLookup, type RequestFacts, type RequestValues } from '../auth/context.js'
import { GrantIndex, grantIdOfToken, HMAC_GRANT_OPERATIONS, isGrantOf } from '../auth/grants.js'
import { DENY_ALL, type CompiledPolicy, type PolicyCache } from '../auth/policy.js'
import type { Caller } from '../auth/principals.js'
import type { KeyState } from '../domain.js'
import { StoreConflictError, type GrantRecord, type KeyRecord, type KeyView, type Store } from '../store/store.js'
import { keyArn } from './arn.js'
import type { CachedKey, KeyCache } from './cache.js'
import { assertUsable, hasExpiredMaterial, withoutMaterial } from './lifecycle.js'
import { keyNotFound, locateKey, type KeyLocation, type ResolveScope } from './resolve.js'
import type { Sweeper } from './sweeper.js'

export interface UseKeyOptions {
  /** Which KeyId forms are accepted; default: the operation's declared keyIdForms (each operation's KeyId documentation in the model). */
  readonly forms?: KeyIdForms | undefined
  /** States in which the operation proceeds; default: the operation's declared usableIn. */
  readonly usableIn?: readonly KeyState[] | undefined
  readonly grantTokens?: readonly string[] | undefined
  /** The IAM action to authorize; defaults to the operation's own. */
  readonly action?: string | undefined
  /** Request-specific condition values (kms:MacAlgorithm, aws:RequestTag/..., lower-cased keys). */
  readonly values?: RequestValues | undefined
}

/** The request asking for access: who, where, for which operation. */
export interface AccessRequest {
  readonly caller: Caller
  readonly region: string
  readonly facts: RequestFacts
  readonly operation: {
    readonly name: string
    readonly action: string
    readonly crossAccount: boolean
    readonly keyIdForms: KeyIdForms | undefined
    readonly usableIn: readonly KeyState[] | undefined
  }
  /** The key the request turned out to be about (audit `resources`); set by the first key used. */
  keyArn: string | undefined
}

export type KeyIdForms = 'any' | 'idOrArn'

/** The KeyId forms and states that apply: the call's own, else the operation's declaration. */
function declared(req: AccessRequest, options: UseKeyOptions): { forms: KeyIdForms; usableIn: readonly KeyState[] } {
  const forms = options.forms ?? req.operation.keyIdForms
  const usableIn = options.usableIn ?? req.operation.usableIn
  if (forms === undefined || usableIn === undefined) throw new Error(`${req.operation.name} declares no keyIdForms or usableIn`)
  return { forms, usableIn }
}

const GRANTABLE: ReadonlySet<string> = new Set(HMAC_GRANT_OPERATIONS)

/** The compiled key policy; one that cannot be compiled denies everything (fail closed). */
export function keyPolicyOf(policies: PolicyCache, record: KeyRecord): CompiledPolicy {
  try {
    return policies.get(record.policy, 'key')
  } catch {
    return DENY_ALL
  }
}

/** What an authorization decision reads of a key: a cached key, or one read from the store. */
export type AuthorizedKey = Pick<CachedKey, 'arn' | 'policy' | 'grants'> & { readonly record: KeyView }

export class KeyAccess {
  private readonly partition: string
  private readonly store: Store
  private readonly keys: KeyCache
  private readonly policies: PolicyCache
  private readonly sweeper: Sweeper
  private readonly now: () => number

  constructor(
    partition: string,
    store: Store,
    keys: KeyCache,
    policies: PolicyCache,
    sweeper: Sweeper,
    now: () => number,
  ) {
    this.partition = partition
    this.store = store
    this.keys = keys
    this.policies = policies
    this.sweeper = sweeper
    this.now = now
  }

  /** Resolve + cache + authorize + state. */
  async useKey(req: AccessRequest, text: string, options: UseKeyOptions): Promise<CachedKey> {
    const { forms, usableIn } = declared(req, options)
    const loc = await locateKey(this.scopeOf(req), text, forms)
    let key = await this.keys.getKey(loc.accountId, loc.region, loc.keyId)
    if (!key || this.isDeleted(key.record)) throw keyNotFound(this.partition, loc)
    if (hasExpiredMaterial(key.record, this.now())) {
      // ValidTo has passed: the key is PendingImport now, even before the expiry job stores that.
      key = { ...key, record: withoutMaterial(key.record), material: undefined }
      this.sweeper.wake()
    } else if (key.record.material === undefined && key.record.state !== 'PendingImport') {
      // A key without material is PendingImport whatever an older record says (never a 500).
      key = { ...key, record: withoutMaterial(key.record) }
    }
    req.keyArn ??= key.arn
    const action = options.action ?? req.operation.action
    enforce(await this.decide(req, key, loc.viaAlias, options, true), req.caller, action, key.arn)
    assertUsable(key.arn, key.record.state, usableIn)
    return key
  }

  /**
   * Read-modify-write of a key record with optimistic concurrency: loads the current record from
   * the store, checks access and state, applies `change`, and retries if another writer won.
   */
  async updateKey(
    req: AccessRequest,
    text: string,
    options: UseKeyOptions,
    change: (record: KeyRecord, arn: string) => KeyRecord | Promise<KeyRecord>,
  ): Promise<{ record: KeyRecord; arn: string }> {
    const { forms, usableIn } = declared(req, options)
    const loc = await locateKey(this.scopeOf(req), text, forms)
    let arn = keyArn(this.partition, loc.region, loc.accountId, loc.keyId)
    const record = await this.retrying(loc, async (current) => {
      if (!current || this.isDeleted(current)) throw keyNotFound(this.partition, loc)
      arn = keyArn(this.partition, current.region, current.accountId, current.keyId)
      req.keyArn ??= arn
      const access = { record: current, arn, policy: keyPolicyOf(this.policies, current), grants: GrantIndex.EMPTY }
      enforce(await this.decide(req, access, loc.viaAlias, options, false), req.caller, options.action ?? req.operation.action, arn)
      assertUsable(arn, current.state, usableIn)
      return change(current, arn)
    })
    if (record === undefined) throw keyNotFound(this.partition, loc)
    return { record, arn }
  }

  /**
   * Applies `change` to a key the request has already been authorized for (the other Regions of a
   * multi-Region key), re-reading it and retrying on a conflicting write. Undefined if it is gone.
   */
  rewriteKey(key: { accountId: string; region: string; keyId: string }, change: (record: KeyRecord) => KeyRecord): Promise<KeyRecord | undefined> {
    return this.retrying(key, (current) => Promise.resolve(current === undefined ? undefined : change(current)))
  }

  /** The optimistic-concurrency loop: read, change, compare-and-set; on a conflict, again. */
  private async retrying(
    key: { accountId: string; region: string; keyId: string },
    change: (current: KeyRecord | undefined) => Promise<KeyRecord | undefined>,
  ): Promise<KeyRecord | undefined> {
    for (let attempt = 0; ; attempt++) {
      const current = await this.store.getKey(key.accountId, key.region, key.keyId)
      const next = await change(current)
      if (next === undefined || next === current) return next
      try {
        return await this.store.updateKey(next)
      } catch (err) {
        // Another writer changed the key between our read and write: re-read and re-check.
        if (err instanceof StoreConflictError && attempt < 10) continue
        throw err
      }
    }
  }

  /**
   * The key a KeyId names, read afresh from the store, not authorized and in any state: for the
   * operations whose permission is not the key's (RetireGrant). NotFoundException if it does not
   * exist or its deletion window has passed.
   */
  async readKey(req: AccessRequest, text: string, forms: 'any' | 'idOrArn'): Promise<{ record: KeyRecord; arn: string }> {
    const loc = await locateKey(this.scopeOf(req), text, forms)
    const record = await this.store.getKey(loc.accountId, loc.region, loc.keyId)
    if (!record || this.isDeleted(record)) throw keyNotFound(this.partition, loc)
    return { record, arn: keyArn(this.partition, record.region, record.accountId, record.keyId) }
  }

  /** Resolves a KeyId to its location without loading or authorizing the key. */
  locateKey(req: AccessRequest, text: string, forms: 'any' | 'idOrArn'): Promise<KeyLocation> {
    return locateKey(this.scopeOf(req), text, forms)
  }

  /**
   * The authorization decision for a key: key policy, identity policy, and (if `withGrants`) the
   * key's grants and those named by the request's grant tokens.
   */
  async decide(
    req: AccessRequest,
    key: AuthorizedKey,
    viaAlias: string | undefined,
    options: Pick<UseKeyOptions, 'action' | 'grantTokens' | 'values'>,
    withGrants: boolean,
  ): Promise<Decision> {
    const action = options.action ?? req.operation.action
    const { record } = key
    const tokenGrants = await this.grantsOfTokens(options.grantTokens, key)
    const wantsAliases =
      key.policy.conditionKeys.has('kms:resourcealiases') || req.caller.identity?.conditionKeys.has('kms:resourcealiases') === true
    const resourceAliases = wantsAliases
      ? (await this.store.listAliases(record.accountId, record.region, { keyId: record.keyId, limit: 50 })).items.map((a) => a.aliasName)
      : undefined
    const lookup = conditionLookup(req.facts, { record, requestAlias: viaAlias, resourceAliases }, options.values)
    const ownAction = action === req.operation.action
    return decideKeyAccess(
      req.caller,
      { accountId: record.accountId, arn: key.arn, policy: key.policy, grants: withGrants ? key.grants : GrantIndex.EMPTY },
      {
        action,
        crossAccount: req.operation.crossAccount,
        grantOperation: withGrants && ownAction && GRANTABLE.has(req.operation.name) ? req.operation.name : undefined,
        tokenGrants: withGrants ? tokenGrants : undefined,
        lookup,
      },
    )
  }

  /**
   * Grants named by grant tokens that the key's cached index does not hold yet (made through
   * another node a moment ago). A malformed token is InvalidGrantTokenException.
   */
  private async grantsOfTokens(tokens: readonly string[] | undefined, key: AuthorizedKey): Promise<GrantRecord[] | undefined> {
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

  /** A key whose deletion window has passed is gone, even before the sweeper removes it. */
  private isDeleted(record: KeyView): boolean {
    if (record.state !== 'PendingDeletion' || record.deletionDate === undefined) return false
    if (record.deletionDate > this.now()) return false
    this.sweeper.wake()
    return true
  }

  private scopeOf(req: AccessRequest): ResolveScope {
    return {
      partition: this.partition,
      accountId: req.caller.accountId,
      region: req.region,
      aliasTarget: (a, r, n) => this.keys.getAliasTarget(a, r, n),
    }
  }
}
