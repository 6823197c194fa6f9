// The Store interface and its plain record types. Drivers (store/sqlite, store/postgres) implement
// it and pass one contract suite (test/store/contract.ts). Nothing here imports from above store/.
// Over 400 lines because it is the whole contract: every record type and every capability, each a
// few documented lines.
import type { ExpirationModel, HmacKeySpec, KeyState, KeyUsage, Origin, Tag } from '../domain.js'

/** A KMS key as stored. Times are epoch milliseconds. */
export interface KeyRecord {
  readonly accountId: string
  readonly region: string
  readonly keyId: string
  readonly keySpec: HmacKeySpec
  readonly keyUsage: KeyUsage
  readonly origin: Origin
  readonly state: KeyState
  readonly description: string
  readonly creationDate: number
  /** Set only while PendingDeletion (and by older versions while PendingReplicaDeletion). */
  readonly deletionDate?: number
  /**
   * PendingReplicaDeletion only: the waiting period a multi-Region primary starts once its last
   * replica is deleted (AWS: "the waiting period begins when the last of its replica keys is deleted").
   */
  readonly pendingWindowDays?: number
  readonly multiRegion: boolean
  /** Key policy document, exactly as given (or the default policy text). */
  readonly policy: string
  /** Sorted by key. */
  readonly tags: readonly Tag[]
  /** Key material wrapped by the root of trust (crypto/envelope.ts); absent while PendingImport. */
  readonly material?: Buffer
  /** Imported material only: when it expires (ValidTo, epoch ms) under KEY_MATERIAL_EXPIRES. */
  readonly expirationModel?: ExpirationModel
  readonly validTo?: number
  /** Imported material only: a salted digest, so that only the same material can be re-imported. */
  readonly importCheck?: string
  /** The latest GetParametersForImport answer: token digest and the sealed RSA private key. */
  readonly importParameters?: ImportParameters
  /** Multi-Region keys: the region of the primary (this key's region for the primary itself). */
  readonly primaryRegion?: string
  /** Bumped by the store on every write; the optimistic-concurrency token. */
  readonly version: number
  /**
   * How many grants the key has, as read from the store (createGrant and deleteGrant keep it;
   * insertKey and updateKey ignore it). Undefined on a record not read from the store.
   */
  readonly grantCount?: number
}

/**
 * A key record whose sealed material may not be at hand (the key cache keeps the material
 * unwrapped instead): `material` then only says whether the key has any. What reads a key without
 * opening its envelope takes this.
 */
export type KeyView = Omit<KeyRecord, 'material'> & { readonly material?: unknown }

export interface ImportParameters {
  readonly tokenDigest: string
  readonly wrappingAlgorithm: string
  readonly wrappingKeySpec: string
  /** PKCS#8 DER of the wrapping private key, sealed under the root of trust. */
  readonly privateKey: Buffer
  /** Epoch ms after which the token and public key are expired. */
  readonly validTo: number
}

export interface AliasRecord {
  readonly accountId: string
  readonly region: string
  /** Full name including the `alias/` prefix. */
  readonly aliasName: string
  readonly keyId: string
  readonly creationDate: number
  readonly lastUpdatedDate: number
}

export interface AccessKeyRecord {
  readonly accessKeyId: string
  readonly accountId: string
  /** IAM user name; undefined for the account's root user. */
  readonly userName?: string
  /** The secret access key wrapped by the root of trust. */
  readonly secret: Buffer
  readonly status: 'Active' | 'Inactive'
  readonly createDate: number
}

/** An IAM user of an account; its access keys are AccessKeyRecords with its name. */
export interface UserRecord {
  readonly accountId: string
  readonly userName: string
  /** The user's identity policy document, if any. */
  readonly policy?: string
  readonly createDate: number
}

/** An IAM role of an account: who may assume it (its trust policy) and what its sessions may do. */
export interface RoleRecord {
  readonly accountId: string
  readonly roleName: string
  /** `AROA` + 17 characters: the role's unique id, as in `aws:userid` (`<roleId>:<session>`). */
  readonly roleId: string
  /** The trust policy document: a resource-based policy on the role naming who may assume it. */
  readonly trustPolicy: string
  /** The role's identity policy document, if any. */
  readonly policy?: string
  /** The longest session AssumeRole may give (3600 to 43200 seconds). */
  readonly maxSessionSeconds: number
  readonly createDate: number
  /** Sessions issued before this time (epoch ms) are refused (`roles revoke-sessions`). */
  readonly sessionsValidAfter?: number
}

/** An OpenID Connect identity provider an account trusts for AssumeRoleWithWebIdentity. */
export interface OidcProviderRecord {
  readonly accountId: string
  /** The issuer URL without `https://` (as in the provider's ARN and its condition keys). */
  readonly url: string
  /** The audiences (client ids) a token may be issued to. */
  readonly clientIds: readonly string[]
  /** A JSON Web Key Set given at creation; without it, keys come from the issuer's discovery document. */
  readonly jwks?: string
  readonly createDate: number
}

/** A grant on a key (AWS KMS Developer Guide, Grants). */
export interface GrantRecord {
  readonly grantId: string
  readonly accountId: string
  readonly region: string
  readonly keyId: string
  readonly name?: string
  readonly granteePrincipal: string
  readonly retiringPrincipal?: string
  readonly operations: readonly string[]
  /** ARN of the account root that created the grant. */
  readonly issuingAccount: string
  readonly creationDate: number
}

export type CreateGrantResult =
  | { readonly status: 'created' | 'existing'; readonly grant: GrantRecord }
  | { readonly status: 'limit' }

/** One audit record as stored: the CloudTrail-shaped event as JSON, chained by hash. */
export interface AuditRow {
  /** Position in the chain, from 1, assigned by the store. */
  readonly seq: number
  /** eventTime, epoch ms. */
  readonly time: number
  readonly eventId: string
  readonly eventName: string
  /** Account of the caller, or '' when the request was not authenticated. */
  readonly accountId: string
  /** The key ARN the request was about, if any. */
  readonly keyArn?: string
  /** The caller's ARN, or '' when the request was not authenticated. */
  readonly principal: string
  readonly outcome: 'success' | 'failure'
  /**
   * The event as stored: CloudTrail's JSON, or a compact form that needs the columns above to be
   * read (audit/event.ts cloudTrailText() gives the JSON either way).
   */
  readonly event: string
  /** Hash of the previous record ('' before the first), and of this one (audit/chain.ts). */
  readonly prevHash: string
  readonly hash: string
}

export type NewAuditRow = Omit<AuditRow, 'seq' | 'prevHash' | 'hash'>

export interface AuditFilter {
  readonly from?: number
  readonly to?: number
  readonly keyArn?: string
  readonly principal?: string
  readonly eventName?: string
  readonly outcome?: 'success' | 'failure'
  /** Only records with a larger seq (paging). */
  readonly afterSeq?: number
  readonly limit: number
}

/** A stretch of the trail newest first by time (then seq): CloudTrail's LookupEvents order. */
export interface AuditScan {
  /** Only records before this position (paging). */
  readonly before?: { readonly time: number; readonly seq: number }
  readonly from?: number
  readonly to?: number
  readonly limit: number
}

export interface Page<T> {
  readonly items: T[]
  /** Present when more items follow: pass it back as `after`. */
  readonly next?: string
}

/** Thrown when a unique constraint or an expected version does not hold. */
export class StoreConflictError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'StoreConflictError'
  }
}

/** An insert would take an account past its key quota in a region; `usage` is its key count. */
export class KeyQuotaError extends Error {
  readonly usage: number

  constructor(usage: number) {
    super(`the key quota is reached (${usage} keys)`)
    this.usage = usage
  }
}

/**
 * The store cannot be reached or did not answer in time (connection refused or lost, timeout).
 * The service answers DependencyTimeoutException (5xx) so that SDKs retry.
 */
export class StoreUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'StoreUnavailableError'
  }
}

/** What changed, so that caches can drop what they hold. */
export type StoreChange =
  | { readonly kind: 'key'; readonly accountId: string; readonly region: string; readonly keyId: string }
  | { readonly kind: 'alias'; readonly accountId: string; readonly region: string; readonly aliasName: string }
  /**
   * A grant of the key was created or deleted, and nothing else of the key changed: the key's
   * version became `version` (one more than before). Caches apply it to the grants they hold
   * when they hold the version before; otherwise they drop the key.
   */
  | {
      readonly kind: 'grant'
      readonly accountId: string
      readonly region: string
      readonly keyId: string
      readonly grantId: string
      readonly version: number
    }
  | { readonly kind: 'accessKey'; readonly accessKeyId: string }
  | { readonly kind: 'user'; readonly accountId: string; readonly userName: string }
  | { readonly kind: 'role'; readonly accountId: string; readonly roleName: string }
  /** putSetting() wrote this setting (the current root of trust after a rotation, for one). */
  | { readonly kind: 'setting'; readonly name: string }
  /** The store may have missed changes (e.g. its change feed reconnected): drop every cached entry. */
  | { readonly kind: 'unknown' }

/** The one `unknown` change. */
export const UNKNOWN_CHANGE: StoreChange = Object.freeze({ kind: 'unknown' })

/** Keys: records, listings and the scans the sweeper and admin commands use. */
export interface KeyStore {
  getKey(accountId: string, region: string, keyId: string): Promise<KeyRecord | undefined>
  /** Keys of one account and region ordered by keyId, starting after the `after` key id. */
  listKeys(accountId: string, region: string, after: string | undefined, limit: number): Promise<Page<KeyRecord>>
  /** Number of keys (in every state) of one account and region, or of the whole store. */
  countKeys(scope?: { readonly accountId: string; readonly region: string }): Promise<number>
  /**
   * Inserts a new key with version 1; StoreConflictError if the key id exists. With `quota`,
   * KeyQuotaError instead when the account already has that many keys in the key's region,
   * checked atomically with the insert (concurrent inserts cannot overshoot it).
   */
  insertKey(key: Omit<KeyRecord, 'version'>, quota?: number): Promise<KeyRecord>
  /**
   * Replaces a key if its stored version equals `key.version`; returns the record with the new
   * version. StoreConflictError if the version moved on or the key is gone.
   */
  updateKey(key: KeyRecord): Promise<KeyRecord>
  /** Deletes a key with its aliases and grants, atomically. Returns false if it did not exist. */
  deleteKey(accountId: string, region: string, keyId: string): Promise<boolean>
  /** Keys in PendingDeletion whose deletionDate is at or before `now`, across all accounts. */
  listKeysDueForDeletion(now: number, limit: number): Promise<KeyRecord[]>
  /** Keys holding imported material whose validTo is at or before `now`, across all accounts. */
  listKeysWithExpiredMaterial(now: number, limit: number): Promise<KeyRecord[]>
  /** Every region's key with this id in the account (a multi-Region key and its replicas). */
  listRelatedKeys(accountId: string, keyId: string): Promise<KeyRecord[]>
  /** Every key of every account and Region, in (account, region, key id) order (root rotation). */
  scanKeys(after: string | undefined, limit: number): Promise<Page<KeyRecord>>
}

/** Aliases. */
export interface AliasStore {
  getAlias(accountId: string, region: string, aliasName: string): Promise<AliasRecord | undefined>
  /** Aliases of one account and region ordered by name, optionally only those of one key. */
  listAliases(
    accountId: string,
    region: string,
    filter: { keyId?: string; after?: string; limit: number },
  ): Promise<Page<AliasRecord>>
  countAliasesForKey(accountId: string, region: string, keyId: string): Promise<number>
  /** StoreConflictError if the name is taken in that account and region. */
  insertAlias(alias: AliasRecord): Promise<void>
  /** Points an existing alias at another key; false if the alias does not exist. */
  updateAlias(alias: AliasRecord): Promise<boolean>
  deleteAlias(accountId: string, region: string, aliasName: string): Promise<boolean>
}

/** IAM users and access keys (their secrets sealed). */
export interface IdentityStore {
  getAccessKey(accessKeyId: string): Promise<AccessKeyRecord | undefined>
  listAccessKeys(accountId: string): Promise<AccessKeyRecord[]>
  /** Every access key of every account (root rotation). */
  listAllAccessKeys(): Promise<AccessKeyRecord[]>
  /** StoreConflictError if the id exists. */
  insertAccessKey(record: AccessKeyRecord): Promise<void>
  deleteAccessKey(accessKeyId: string): Promise<boolean>
  /** Replaces an access key's sealed secret if it still is `expected`; false otherwise. */
  replaceAccessKeySecret(accessKeyId: string, expected: Buffer, secret: Buffer): Promise<boolean>
  getUser(accountId: string, userName: string): Promise<UserRecord | undefined>
  /** Users ordered by account and name; all accounts when `accountId` is undefined. */
  listUsers(accountId: string | undefined): Promise<UserRecord[]>
  /** StoreConflictError if the user exists. */
  insertUser(user: UserRecord): Promise<void>
  /** Replaces (or with undefined removes) a user's policy; false if there is no such user. */
  putUserPolicy(accountId: string, userName: string, policy: string | undefined): Promise<boolean>
  /** Deletes a user and all its access keys, atomically; false if there is no such user. */
  deleteUser(accountId: string, userName: string): Promise<boolean>
  getRole(accountId: string, roleName: string): Promise<RoleRecord | undefined>
  /** Roles ordered by account and name; all accounts when `accountId` is undefined. */
  listRoles(accountId: string | undefined): Promise<RoleRecord[]>
  /** StoreConflictError if the account has a role of that name. */
  insertRole(role: RoleRecord): Promise<void>
  /** Replaces a role's policies, maximum session and revocation time; false if it is gone. */
  updateRole(role: RoleRecord): Promise<boolean>
  /** False if there is no such role. */
  deleteRole(accountId: string, roleName: string): Promise<boolean>
  getOidcProvider(accountId: string, url: string): Promise<OidcProviderRecord | undefined>
  /** Providers ordered by account and URL; all accounts when `accountId` is undefined. */
  listOidcProviders(accountId: string | undefined): Promise<OidcProviderRecord[]>
  /** StoreConflictError if the account has a provider for that URL. */
  insertOidcProvider(provider: OidcProviderRecord): Promise<void>
  deleteOidcProvider(accountId: string, url: string): Promise<boolean>
}

/** Grants. */
export interface GrantStore {
  getGrant(grantId: string): Promise<GrantRecord | undefined>
  /** Every grant of a key, oldest first (for the authorization index). */
  grantsOfKey(accountId: string, region: string, keyId: string): Promise<GrantRecord[]>
  listGrants(
    accountId: string,
    region: string,
    keyId: string,
    filter: { grantId?: string; granteePrincipal?: string; after?: string; limit: number },
  ): Promise<Page<GrantRecord>>
  listRetirableGrants(retiringPrincipal: string, after: string | undefined, limit: number): Promise<Page<GrantRecord>>
  /**
   * Inserts a grant unless the key already has `limit` grants, or (when the grant has a name) an
   * identical grant with that name exists, which is returned instead. Bumps the key's version, so
   * caches reload its grants. StoreConflictError if the key is gone.
   */
  createGrant(grant: GrantRecord, limit: number): Promise<CreateGrantResult>
  /** Deletes a grant and bumps its key's version; returns the deleted grant. */
  deleteGrant(grantId: string): Promise<GrantRecord | undefined>
}

/**
 * The hash of the audit record at `seq` after the record whose hash is `prevHash` (audit/chain.ts);
 * `sealed` for the last record of a batch (the default), which carries the keyed hash.
 */
export type ChainFn = (prevHash: string, seq: number, row: NewAuditRow, sealed?: boolean) => string

/** The audit trail: append-only, hash-chained. */
export interface AuditStore {
  /**
   * Appends audit records in one transaction, continuing the hash chain from the stored head
   * (`chain(prevHash, seq, row, sealed)` computes each hash; the last record is the sealed one),
   * serialized across processes and nodes.
   */
  appendAudit(rows: readonly NewAuditRow[], chain: ChainFn): Promise<void>
  /** Audit records in seq order matching the filter. */
  queryAudit(filter: AuditFilter): Promise<AuditRow[]>
  /** At most `limit` records newest first by time, through the time index. */
  scanAudit(scan: AuditScan): Promise<AuditRow[]>
  /**
   * Deletes records older than `before` (retention) and remembers the last deleted record's hash
   * and seq, so the chain still verifies from there. Returns the number deleted.
   */
  pruneAudit(before: number): Promise<number>
  /** Where the stored chain starts: after the pruned prefix (seq 0 and '' when nothing pruned). */
  auditAnchor(): Promise<{ seq: number; hash: string }>
}

/** Named settings (root of trust, audit chain key, bootstrap records, last key usage). */
export interface SettingStore {
  /** Service-wide settings (e.g. which root of trust is current); values are not secret. */
  getSetting(name: string): Promise<string | undefined>
  putSetting(name: string, value: string): Promise<void>
  /**
   * Stores `value` unless the setting exists, atomically; returns the stored value (the first
   * writer's when two processes or nodes race to make the same setting).
   */
  initSetting(name: string, value: string): Promise<string>
  /**
   * Stores each key's use unless a later one is stored (another process's), in one transaction.
   */
  storeKeyUses(uses: readonly KeyUseRow[]): Promise<void>
  /** The stored last use of a key (GetKeyLastUsage). */
  getKeyUse(arn: string): Promise<KeyUseRow | undefined>
}

/** A key's last use as stored: its time (epoch ms) and the use as JSON text. */
export interface KeyUseRow {
  readonly arn: string
  readonly time: number
  readonly use: string
}

/** Leases: one holder at a time among processes and nodes (the sweeper). */
export interface LeaseStore {
  /**
   * Takes or renews a named lease for `owner` until `now + ttlMs`, if it is free, expired or
   * already `owner`'s: periodic jobs (the deletion sweep) run on one node or worker at a time.
   */
  acquireLease(name: string, owner: string, now: number, ttlMs: number): Promise<boolean>
}

/** Changes other processes made, for caches. */
export interface ChangeFeed {
  /**
   * Delivers changes made by other processes that are already visible, before a request relies on
   * its caches. Cheap (SQLite: one pragma); a no-op where changes are pushed.
   */
  catchUp(): void
  /**
   * Tells this store's listeners of a change another process of the node made and relayed (a
   * sibling worker), before the push from the database could arrive.
   */
  notify(change: StoreChange): void
  /** Subscribes to every change this store makes or learns of; returns an unsubscribe function. */
  onChange(listener: (change: StoreChange) => void): () => void
  /**
   * A number that stays the same for as long as every change other processes commit is sure to
   * reach onChange before a request that follows it relies on a cache; undefined while that is
   * not sure (PostgreSQL: the LISTEN connection is down or has not proven itself alive lately).
   * Caches keep entries read under the current number without re-reading them, and fall back to
   * their TTL otherwise.
   */
  deliveryEpoch(): number | undefined
}

/**
 * The whole store, as the service and the admin commands open it. Callers that need less take the
 * capability they use (a handler's Records, the sweeper's keys and leases, ...).
 */
export interface Store extends KeyStore, AliasStore, IdentityStore, GrantStore, AuditStore, SettingStore, LeaseStore, ChangeFeed {
  close(): Promise<void>
}
