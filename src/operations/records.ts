// What a handler lists, creates and deletes besides the keys it reads and changes through the
// key-access gate (ctx.useKey, ctx.updateKey...): the keys and aliases of the caller's account in
// the request's region, the grants of keys the gate returned, and the users policies name.
// Handlers hold no store: this is all of it they can reach.
import { keyQuotaExceeded } from '../keys/quota.js'
import { KeyQuotaError, type AliasRecord, type CreateGrantResult, type GrantRecord, type KeyRecord, type Page, type Store } from '../store/store.js'

/** The part of the store behind Records. */
export type RecordStore = Pick<
  Store,
  | 'insertKey'
  | 'getRole'
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

type KeyName = Pick<KeyRecord, 'accountId' | 'region' | 'keyId'>

export class Records {
  private readonly store: RecordStore
  private readonly accountId: string
  private readonly region: string
  private readonly quotaKeys: number

  constructor(store: RecordStore, scope: { accountId: string; region: string; quotaKeys: number }) {
    this.store = store
    this.accountId = scope.accountId
    this.region = scope.region
    this.quotaKeys = scope.quotaKeys
  }

  /** The caller's keys in the request's region, by key id (ListKeys). */
  listKeys(after: string | undefined, limit: number): Promise<Page<KeyRecord>> {
    return this.store.listKeys(this.accountId, this.region, after, limit)
  }

  /**
   * Stores a new key of the caller's account (in `key.region`: a replica's region may differ)
   * within the key quota: LimitExceededException at the quota, StoreConflictError if the id exists.
   */
  async createKey(key: Omit<KeyRecord, 'version'>): Promise<KeyRecord> {
    if (key.accountId !== this.accountId) throw new Error(`a key of account ${key.accountId} created for ${this.accountId}`)
    try {
      return await this.store.insertKey(key, this.quotaKeys)
    } catch (err) {
      if (err instanceof KeyQuotaError) throw keyQuotaExceeded(this.quotaKeys, err.usage)
      throw err
    }
  }

  /** Every Region's copy of a multi-Region key the gate returned (the key itself included). */
  regionsOf(key: Pick<KeyRecord, 'accountId' | 'keyId'>): Promise<KeyRecord[]> {
    return this.store.listRelatedKeys(key.accountId, key.keyId)
  }

  /** An alias of the caller's account in the request's region. */
  alias(aliasName: string): Promise<AliasRecord | undefined> {
    return this.store.getAlias(this.accountId, this.region, aliasName)
  }

  aliases(filter: { keyId?: string; after?: string; limit: number }): Promise<Page<AliasRecord>> {
    return this.store.listAliases(this.accountId, this.region, filter)
  }

  aliasCount(key: KeyName): Promise<number> {
    return this.store.countAliasesForKey(key.accountId, key.region, key.keyId)
  }

  /** A new alias of `key` (a key of the caller's, from the gate); StoreConflictError if the name is taken. */
  createAlias(key: KeyName, aliasName: string, now: number): Promise<void> {
    return this.store.insertAlias({ accountId: key.accountId, region: key.region, aliasName, keyId: key.keyId, creationDate: now, lastUpdatedDate: now })
  }

  /** Points an alias at another key of the same account and region; false if the alias is gone. */
  pointAlias(alias: AliasRecord, keyId: string, now: number): Promise<boolean> {
    return this.store.updateAlias({ ...alias, keyId, lastUpdatedDate: now })
  }

  deleteAlias(alias: AliasRecord): Promise<boolean> {
    return this.store.deleteAlias(alias.accountId, alias.region, alias.aliasName)
  }

  /** A grant by id, of any key (its key is then checked by the caller: isGrantOf, retiring rules). */
  grant(grantId: string): Promise<GrantRecord | undefined> {
    return this.store.getGrant(grantId)
  }

  grants(key: KeyName, filter: { grantId?: string; granteePrincipal?: string; after?: string; limit: number }): Promise<Page<GrantRecord>> {
    return this.store.listGrants(key.accountId, key.region, key.keyId, filter)
  }

  retirableGrants(retiringPrincipal: string, after: string | undefined, limit: number): Promise<Page<GrantRecord>> {
    return this.store.listRetirableGrants(retiringPrincipal, after, limit)
  }

  createGrant(grant: GrantRecord, limit: number): Promise<CreateGrantResult> {
    return this.store.createGrant(grant, limit)
  }

  deleteGrant(grant: GrantRecord): Promise<GrantRecord | undefined> {
    return this.store.deleteGrant(grant.grantId)
  }

  /** Whether an IAM user exists (principals named in policies must). */
  async userExists(accountId: string, userName: string): Promise<boolean> {
    return (await this.store.getUser(accountId, userName)) !== undefined
  }

  /** Whether an IAM role exists (principals named in policies must). */
  async roleExists(accountId: string, roleName: string): Promise<boolean> {
    return (await this.store.getRole(accountId, roleName)) !== undefined
  }
}
