// The Store interface and its plain record types. Drivers (store/sqlite, store/postgres) implement
// it and pass one contract suite (test/store/contract.ts). Nothing here imports from above store/.
import type { HmacKeySpec, KeyState, KeyUsage, Origin, Tag } from '../domain.js'

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
  /** Set only while PendingDeletion. */
  readonly deletionDate?: number
  readonly multiRegion: boolean
  /** Key policy document, exactly as given (or the default policy text). */
  readonly policy: string
  /** Sorted by key. */
  readonly tags: readonly Tag[]
  /** Key material wrapped by the root of trust (crypto/envelope.ts); absent while PendingImport. */
  readonly material?: Buffer
  /** Bumped by the store on every write; the optimistic-concurrency token. */
  readonly version: number
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

/** What changed, so that caches can drop what they hold. */
export type StoreChange =
  | { readonly kind: 'key'; readonly accountId: string; readonly region: string; readonly keyId: string }
  | { readonly kind: 'alias'; readonly accountId: string; readonly region: string; readonly aliasName: string }
  | { readonly kind: 'accessKey'; readonly accessKeyId: string }

export interface Store {
  getKey(accountId: string, region: string, keyId: string): Promise<KeyRecord | undefined>
  /** Keys of one account and region ordered by keyId, starting after the `after` key id. */
  listKeys(accountId: string, region: string, after: string | undefined, limit: number): Promise<Page<KeyRecord>>
  /** Number of keys in the whole store (all accounts and regions). */
  countKeys(): Promise<number>
  /** Inserts a new key with version 1; StoreConflictError if the key id exists. */
  insertKey(key: Omit<KeyRecord, 'version'>): Promise<KeyRecord>
  /**
   * Replaces a key if its stored version equals `key.version`; returns the record with the new
   * version. StoreConflictError if the version moved on or the key is gone.
   */
  updateKey(key: KeyRecord): Promise<KeyRecord>
  /** Deletes a key with its aliases, atomically. Returns false if it did not exist. */
  deleteKey(accountId: string, region: string, keyId: string): Promise<boolean>
  /** Keys in PendingDeletion whose deletionDate is at or before `now`, across all accounts. */
  listKeysDueForDeletion(now: number, limit: number): Promise<KeyRecord[]>

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

  getAccessKey(accessKeyId: string): Promise<AccessKeyRecord | undefined>
  listAccessKeys(accountId: string): Promise<AccessKeyRecord[]>
  /** StoreConflictError if the id exists. */
  insertAccessKey(record: AccessKeyRecord): Promise<void>
  deleteAccessKey(accessKeyId: string): Promise<boolean>

  /** Subscribes to every change this store makes or learns of; returns an unsubscribe function. */
  onChange(listener: (change: StoreChange) => void): () => void
  close(): Promise<void>
}
