// The decrypted-key cache behind GenerateMac/VerifyMac: resolved key records with their material
// as a MacKey (crypto/hmac.ts), compiled policy and grants, and alias -> key id links. Entries are dropped on every store change.
// While the store's change feed is sure to deliver every change (ChangeFeed.deliveryEpoch), an
// entry is trusted for as long as the feed stays so; otherwise (a feed outage, PostgreSQL's LISTEN
// connection lost) it is re-checked against the store after `ttlMs`, the safety net for a missed
// notice. A re-check that finds the same version keeps the unwrapped material. With `ttlMs` 0
// every use reads the store.
//
// Grant changes are the exception to "dropped": a key may hold 50,000 grants, and reading them all
// again after each CreateGrant or RevokeGrant made both cost O(grants). A grant change notice
// carries the key's new version; the entry notes the grant id and is re-checked on its next use,
// which reads the key record and only the noted grants. That is safe only when the record's version
// moved by exactly the noted changes (each grant change bumps it by one): then nothing else of the
// key changed. Any other difference, a gap in the notices, or more than MAX_GRANT_CHANGES noted
// falls back to loading the key whole.
//
// Bounded in bytes, not entries: each key costs KEY_ENTRY_BYTES plus its grants, and each distinct
// compiled policy its policyBytes() once, however many cached keys share it. Over the budget the
// oldest entries go first; what does not fit is read again from the store, never held.
import { GrantIndex, isGrantOf } from '../auth/grants.js'
import { policyBytes, type CompiledPolicy } from '../auth/policy.js'
import type { MacKey } from '../crypto/hmac.js'
import type { Tag } from '../domain.js'
import type { AliasStore, ChangeFeed, GrantStore, KeyView, KeyRecord, KeyStore, StoreChange } from '../store/store.js'

/**
 * What the cache keeps of a key record: not its sealed material (the entry holds the material
 * unwrapped, as `material`); the record's `material` only marks that the key has some.
 */
export type CachedRecord = KeyView & { readonly material?: typeof MATERIAL_HELD }
export const MATERIAL_HELD: unique symbol = Symbol('key material, held unwrapped by the key cache')

export interface CachedKey {
  readonly record: CachedRecord
  readonly arn: string
  /** Unwrapped material; absent for keys without material (PendingImport). */
  readonly material: MacKey | undefined
  /** The key policy, compiled. */
  readonly policy: CompiledPolicy
  /** The key's grants by grantee. */
  readonly grants: GrantIndex
}

/** What `load` makes of a record for the cache (the cache adds the record and ARN). */
export type LoadedKey = Omit<CachedKey, 'record' | 'arn'>

interface Entry {
  value: CachedKey
  checkedAt: number
  /** The feed's delivery epoch when the entry was read (undefined: the feed was not sure). */
  epoch: number | undefined
  /** Grants changed since `value` was read, in order: change i made the key version value.record.version + i + 1. */
  grantChanges?: string[]
}

/** Noted grant changes beyond which an entry is dropped instead (reloading it is then cheaper). */
export const MAX_GRANT_CHANGES = 256

/**
 * What one cached key weighs besides its policy (record, material, ARN, maps), and per grant.
 * `npm run bench:key-entry` measures about 810 B of heap and external memory per cached HMAC key
 * with the default policy (GetKeyLastUsage's note of the use included; 1,500 B before records were
 * kept without their sealed material and with shared strings), plus about 100 B of native memory
 * for its material's buffer, which `external` does not count (a KeyObject's was about 580 B).
 * At 2,048 B the default budget held 91,000 keys where 117,000 fit.
 */
export const KEY_ENTRY_BYTES = 1600
export const GRANT_BYTES = 512
const ALIAS_ENTRY_BYTES = 256

interface AliasEntry {
  keyId: string | undefined
  checkedAt: number
  epoch: number | undefined
}

export interface KeyCacheOptions {
  readonly ttlMs: number
  /** Memory for cached keys (with their policies and grants) and aliases together. */
  readonly maxBytes: number
  readonly now: () => number
  /** A key's ARN; also what the cache files the key under (the entry's own copy of it). */
  readonly arnOf: (accountId: string, region: string, keyId: string) => string
  /** Builds the cached form of a record: unwrapped material, compiled policy, grant index. */
  readonly load: (record: KeyRecord, arn: string) => Promise<LoadedKey>
}

const sep = '\u0000'
/** Distinct account ids and Regions shared by cached records at the most (then each keeps its own). */
const MAX_SHARED_STRINGS = 10_000
const NO_TAGS: readonly Tag[] = Object.freeze([])

export class KeyCache {
  private readonly keys = new Map<string, Entry>()
  private readonly aliases = new Map<string, AliasEntry>()
  /** Bumped on every change: a load that raced with a change must not be cached. */
  private epoch = 0
  private readonly unsubscribe: () => void
  hits = 0
  misses = 0
  /** Estimated bytes held, and the policies counted in it with how many entries use each. */
  private bytes = 0
  private readonly policyUsers = new Map<CompiledPolicy, number>()
  /** One copy of each account id and Region for all cached records (cachedRecord). */
  private readonly strings = new Map<string, string>()

  private readonly store: KeyStore & AliasStore & GrantStore & ChangeFeed
  private readonly options: KeyCacheOptions

  constructor(store: KeyStore & AliasStore & GrantStore & ChangeFeed, options: KeyCacheOptions) {
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
        this.forgetKey(this.options.arnOf(change.accountId, change.region, change.keyId))
        break
      case 'alias':
        this.forgetAlias(change.accountId + sep + change.region + sep + change.aliasName)
        break
      case 'grant':
        this.noteGrantChange(this.options.arnOf(change.accountId, change.region, change.keyId), change.grantId, change.version)
        break
      case 'unknown':
        // The store lost track of changes (e.g. a reconnect): forget everything.
        this.clearAll()
        break
      case 'user':
      case 'accessKey':
      case 'role':
      case 'setting':
        break
    }
  }

  /** A grant of a cached key changed, making its version `version`: re-check it on its next use. */
  private noteGrantChange(id: string, grantId: string, version: number): void {
    const entry = this.keys.get(id)
    if (entry === undefined) return
    const noted = entry.grantChanges ?? []
    const known = entry.value.record.version + noted.length
    // Read after the change committed (its notice came late): already in the entry.
    if (version <= known) return
    if (version !== known + 1 || noted.length >= MAX_GRANT_CHANGES) {
      this.forgetKey(id)
      return
    }
    noted.push(grantId)
    entry.grantChanges = noted
    entry.checkedAt = -Infinity
    entry.epoch = undefined
  }

  /**
   * The entry brought to `record` by reading only its noted grants; undefined when the record
   * differs by more than those changes (or the entry went meanwhile), so it must be loaded whole.
   */
  private async applyGrantChanges(id: string, entry: Entry, record: KeyRecord, now: number, epoch: number | undefined): Promise<CachedKey | undefined> {
    const noted = entry.grantChanges ?? []
    if (noted.length === 0 || record.version !== entry.value.record.version + noted.length) return undefined
    const ids = [...new Set(noted)]
    const grants = await Promise.all(ids.map((grantId) => this.store.getGrant(grantId)))
    // Notices that came during the reads stay noted, on top of the version read above.
    if (this.keys.get(id) !== entry) return undefined
    const later = (entry.grantChanges ?? []).slice(noted.length)
    this.forgetKey(id)
    let index = entry.value.grants
    if (index === GrantIndex.EMPTY) index = new GrantIndex([])
    ids.forEach((grantId, i) => {
      const grant = grants[i]
      if (grant !== undefined && isGrantOf(grant, record)) index.put(grant)
      else index.remove(grantId)
    })
    const value = this.entryOf(this.cachedRecord(record, entry.value.policy), entry.value.arn, { ...entry.value, grants: index })
    this.rememberKey(id, later.length > 0 ? { value, checkedAt: -Infinity, epoch: undefined, grantChanges: later } : { value, checkedAt: now, epoch })
    return value
  }

  /**
   * The record as the cache keeps it, without what 100,000 cached keys would each hold a copy of:
   * the sealed material (the entry has it unwrapped), and strings many keys share (account id,
   * Region, the enumerated fields, the policy text when it is the compiled policy's, no tags).
   * Measured with 100,000 cached keys: 75 MB less resident memory (docs/performance.md).
   */
  private cachedRecord(record: KeyRecord, policy: CompiledPolicy): CachedRecord {
    // Field by field, not by spreading `record`: a spread of records of several shapes gave every
    // copy a hidden class of its own (about 650 bytes each).
    return {
      accountId: this.shared(record.accountId),
      region: this.shared(record.region),
      keyId: record.keyId,
      keySpec: this.shared(record.keySpec),
      keyUsage: this.shared(record.keyUsage),
      origin: this.shared(record.origin),
      state: this.shared(record.state),
      description: record.description,
      creationDate: record.creationDate,
      multiRegion: record.multiRegion,
      policy: record.policy === policy.text ? policy.text : record.policy,
      tags: record.tags.length === 0 ? NO_TAGS : record.tags,
      version: record.version,
      ...(record.grantCount === undefined ? {} : { grantCount: record.grantCount }),
      ...(record.deletionDate === undefined ? {} : { deletionDate: record.deletionDate }),
      ...(record.pendingWindowDays === undefined ? {} : { pendingWindowDays: record.pendingWindowDays }),
      ...(record.material === undefined ? {} : { material: MATERIAL_HELD }),
      ...(record.expirationModel === undefined ? {} : { expirationModel: record.expirationModel }),
      ...(record.validTo === undefined ? {} : { validTo: record.validTo }),
      ...(record.importCheck === undefined ? {} : { importCheck: record.importCheck }),
      ...(record.importParameters === undefined ? {} : { importParameters: record.importParameters }),
      ...(record.primaryRegion === undefined ? {} : { primaryRegion: record.primaryRegion }),
    }
  }

  /** A cached key, built member by member (spreading objects into it gave each a hidden class of its own). */
  private entryOf(record: CachedRecord, arn: string, loaded: LoadedKey): CachedKey {
    return { record, arn, material: loaded.material, policy: loaded.policy, grants: loaded.grants }
  }

  /** The one copy of `text` that cached records share (bounded: past MAX_SHARED_STRINGS, `text` itself). */
  private shared<T extends string>(text: T): T {
    const known = this.strings.get(text)
    if (known !== undefined) return known as T
    if (this.strings.size < MAX_SHARED_STRINGS) this.strings.set(text, text)
    return text
  }

  clear(): void {
    this.epoch++
    this.clearAll()
  }

  private clearAll(): void {
    this.keys.clear()
    this.aliases.clear()
    this.policyUsers.clear()
    this.bytes = 0
  }

  get size(): number {
    return this.keys.size
  }

  /** Estimated bytes held. */
  get sizeBytes(): number {
    return this.bytes
  }

  private costOf(value: CachedKey): number {
    return KEY_ENTRY_BYTES + GRANT_BYTES * value.grants.size
  }

  private forgetKey(id: string): void {
    const entry = this.keys.get(id)
    if (entry === undefined) return
    this.keys.delete(id)
    this.bytes -= this.costOf(entry.value)
    this.release(entry.value.policy)
  }

  /** A cached key uses `policy`: its bytes count once, with its first user. */
  private retain(policy: CompiledPolicy): void {
    const users = this.policyUsers.get(policy) ?? 0
    if (users === 0) this.bytes += policyBytes(policy)
    this.policyUsers.set(policy, users + 1)
  }

  /** A cached key no longer uses `policy`: its bytes go with its last user. */
  private release(policy: CompiledPolicy): void {
    const users = (this.policyUsers.get(policy) ?? 1) - 1
    if (users > 0) {
      this.policyUsers.set(policy, users)
      return
    }
    this.policyUsers.delete(policy)
    this.bytes -= policyBytes(policy)
  }

  private forgetAlias(id: string): void {
    if (this.aliases.delete(id)) this.bytes -= ALIAS_ENTRY_BYTES
  }

  /** Drops the oldest entries (keys first, then aliases) until `extra` more bytes fit. */
  private makeRoom(extra: number): void {
    while (this.bytes + extra > this.options.maxBytes) {
      const key = this.keys.keys().next()
      if (key.done !== true) {
        this.forgetKey(key.value)
        continue
      }
      const alias = this.aliases.keys().next()
      if (alias.done === true) return
      this.forgetAlias(alias.value)
    }
  }

  private rememberKey(id: string, entry: Entry): void {
    this.forgetKey(id)
    const policy = entry.value.policy
    // At most this much more is held: the policy may already be counted for another key.
    const cost = this.costOf(entry.value) + (this.policyUsers.has(policy) ? 0 : policyBytes(policy))
    if (cost > this.options.maxBytes) return
    this.makeRoom(cost)
    // Filed under the entry's own ARN when it is the id, not the string built for the lookup: with
    // 100,000 keys a second string per entry (and the request's pieces it is made of) is ~18 MB.
    this.keys.set(entry.value.arn === id ? entry.value.arn : id, entry)
    this.bytes += this.costOf(entry.value)
    this.retain(policy)
  }

  private rememberAlias(id: string, entry: AliasEntry): void {
    this.forgetAlias(id)
    this.makeRoom(ALIAS_ENTRY_BYTES)
    this.aliases.set(id, entry)
    this.bytes += ALIAS_ENTRY_BYTES
  }

  /** The feed's delivery epoch, if entries may be trusted on it (never with a TTL of 0). */
  private deliveryEpoch(): number | undefined {
    return this.options.ttlMs > 0 ? this.store.deliveryEpoch() : undefined
  }

  /** Whether an entry read at `checkedAt` under delivery epoch `epoch` may be used without a re-read. */
  private fresh(entry: { checkedAt: number; epoch: number | undefined }, now: number, delivery: number | undefined): boolean {
    return (delivery !== undefined && entry.epoch === delivery) || now - entry.checkedAt < this.options.ttlMs
  }

  /** The key, from memory when fresh; undefined if the store has no such key. */
  async getKey(accountId: string, region: string, keyId: string): Promise<CachedKey | undefined> {
    const id = this.options.arnOf(accountId, region, keyId)
    const now = this.options.now()
    const entry = this.keys.get(id)
    // Read before the store: an outage that starts during the read gives the entry no trust.
    const delivery = this.deliveryEpoch()
    if (entry && this.fresh(entry, now, delivery)) {
      this.hits++
      return entry.value
    }
    this.misses++
    const epoch = this.epoch
    const record = await this.store.getKey(accountId, region, keyId)
    if (!record) {
      this.forgetKey(id)
      return undefined
    }
    if (entry && entry.value.record.version === record.version && entry.grantChanges === undefined) {
      if (epoch === this.epoch) this.rememberKey(id, { value: entry.value, checkedAt: now, epoch: delivery })
      return entry.value
    }
    if (entry?.grantChanges !== undefined) {
      const updated = await this.applyGrantChanges(id, entry, record, now, delivery)
      if (updated !== undefined) return updated
    }
    const arn = this.options.arnOf(record.accountId, record.region, record.keyId)
    const loaded = await this.options.load(record, arn)
    const value = this.entryOf(this.cachedRecord(record, loaded.policy), arn, loaded)
    if (epoch === this.epoch) this.rememberKey(id, { value, checkedAt: now, epoch: delivery })
    return value
  }

  /** The key id an alias points at, or undefined if there is no such alias. */
  async getAliasTarget(accountId: string, region: string, aliasName: string): Promise<string | undefined> {
    const id = accountId + sep + region + sep + aliasName
    const now = this.options.now()
    const entry = this.aliases.get(id)
    const delivery = this.deliveryEpoch()
    if (entry && this.fresh(entry, now, delivery)) return entry.keyId
    const epoch = this.epoch
    const alias = await this.store.getAlias(accountId, region, aliasName)
    if (epoch === this.epoch) {
      this.rememberAlias(id, { keyId: alias?.keyId, checkedAt: now, epoch: delivery })
    }
    return alias?.keyId
  }

}
