// The decrypted-key cache behind GenerateMac/VerifyMac: resolved key records with their material
// as a KeyObject, compiled policy and grants, and alias -> key id links. Entries are dropped on every store change and
// re-checked against the store after `ttlMs` (the safety net when a change notice is missed);
// a re-check that finds the same version keeps the unwrapped material.
import type { KeyObject } from 'node:crypto'
import type { GrantIndex } from '../auth/grants.js'
import type { CompiledPolicy } from '../auth/policy.js'
import type { KeyRecord, Store, StoreChange } from '../store/store.js'

export interface CachedKey {
  readonly record: KeyRecord
  readonly arn: string
  /** Unwrapped material; absent for keys without material (PendingImport). */
  readonly material: KeyObject | undefined
  /** The key policy, compiled. */
  readonly policy: CompiledPolicy
  /** The key's grants by grantee. */
  readonly grants: GrantIndex
}

interface Entry {
  value: CachedKey
  checkedAt: number
}

interface AliasEntry {
  keyId: string | undefined
  checkedAt: number
}

export interface KeyCacheOptions {
  readonly ttlMs: number
  readonly maxEntries: number
  readonly now: () => number
  readonly arnOf: (record: KeyRecord) => string
  /** Builds the cached form of a record: unwrapped material, compiled policy, grant index. */
  readonly load: (record: KeyRecord, arn: string) => Promise<CachedKey>
}

const sep = '\u0000'

export class KeyCache {
  private readonly keys = new Map<string, Entry>()
  private readonly aliases = new Map<string, AliasEntry>()
  /** Bumped on every change: a load that raced with a change must not be cached. */
  private epoch = 0
  private readonly unsubscribe: () => void
  hits = 0
  misses = 0

  private readonly store: Store
  private readonly options: KeyCacheOptions

  constructor(store: Store, options: KeyCacheOptions) {
    this.store = store
    this.options = options
    this.unsubscribe = store.onChange((change) => this.invalidate(change))
  }

  close(): void {
    this.unsubscribe()
  }

  invalidate(change: StoreChange): void {
    this.epoch++
    switch (change.kind) {
      case 'key':
        this.keys.delete(change.accountId + sep + change.region + sep + change.keyId)
        break
      case 'alias':
        this.aliases.delete(change.accountId + sep + change.region + sep + change.aliasName)
        break
      case 'user':
        // accountId '*': the store lost track of changes (e.g. a reconnect): forget everything.
        if (change.accountId === '*') {
          this.keys.clear()
          this.aliases.clear()
        }
        break
      case 'accessKey':
        break
    }
  }

  clear(): void {
    this.epoch++
    this.keys.clear()
    this.aliases.clear()
  }

  get size(): number {
    return this.keys.size
  }

  /** The key, from memory when fresh; undefined if the store has no such key. */
  async getKey(accountId: string, region: string, keyId: string): Promise<CachedKey | undefined> {
    const id = accountId + sep + region + sep + keyId
    const now = this.options.now()
    const entry = this.keys.get(id)
    if (entry && now - entry.checkedAt < this.options.ttlMs) {
      this.hits++
      return entry.value
    }
    this.misses++
    const epoch = this.epoch
    const record = await this.store.getKey(accountId, region, keyId)
    if (!record) {
      this.keys.delete(id)
      return undefined
    }
    let value: CachedKey
    if (entry && entry.value.record.version === record.version) {
      value = entry.value
    } else {
      value = await this.options.load(record, this.options.arnOf(record))
    }
    if (epoch === this.epoch) this.remember(this.keys, id, { value, checkedAt: now })
    return value
  }

  /** The key id an alias points at, or undefined if there is no such alias. */
  async getAliasTarget(accountId: string, region: string, aliasName: string): Promise<string | undefined> {
    const id = accountId + sep + region + sep + aliasName
    const now = this.options.now()
    const entry = this.aliases.get(id)
    if (entry && now - entry.checkedAt < this.options.ttlMs) return entry.keyId
    const epoch = this.epoch
    const alias = await this.store.getAlias(accountId, region, aliasName)
    if (epoch === this.epoch) {
      this.remember(this.aliases, id, { keyId: alias?.keyId, checkedAt: now })
    }
    return alias?.keyId
  }

  private remember<V>(map: Map<string, V>, id: string, value: V): void {
    if (map.size >= this.options.maxEntries && !map.has(id)) {
      // Evict the oldest insertion: Map iterates in insertion order.
      const oldest = map.keys().next()
      if (!oldest.done) map.delete(oldest.value)
    }
    map.set(id, value)
  }
}
