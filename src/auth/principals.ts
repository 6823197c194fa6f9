// Callers: who signed a request. Resolves an access key id to its account, user, compiled
// identity policy and (unwrapped) secret, with an in-memory cache dropped on every access-key or
// user change.
import { randomBytes } from 'node:crypto'
import type { AccessKeyRecord, ChangeFeed, IdentityStore } from '../store/store.js'
import type { Principal } from './authorize.js'
import { DENY_ALL, type PolicyCache } from './policy.js'

export interface Caller extends Principal {
  readonly accountId: string
  /** `arn:<partition>:iam::<account>:root` or `arn:<partition>:iam::<account>:user/<name>`. */
  readonly arn: string
  readonly accessKeyId: string
  readonly userName?: string
  readonly isRoot: boolean
}

/** A caller with its secret, for the SigV4 verifier; the secret never leaves this module's users. */
export interface Credential {
  readonly caller: Caller
  readonly secretAccessKey: string
}

export function rootArn(partition: string, accountId: string): string {
  return `arn:${partition}:iam::${accountId}:root`
}

export function userArn(partition: string, accountId: string, userName: string): string {
  return `arn:${partition}:iam::${accountId}:user/${userName}`
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'

/** AWS-shaped access key id: `AKIA` + 16 characters of [A-Z2-7]. */
export function newAccessKeyId(): string {
  const bytes = randomBytes(16)
  let out = 'AKIA'
  for (const b of bytes) out += ALNUM[b & 31]
  return out
}

/** 40 characters from 30 random bytes, like AWS secret access keys. */
export function newSecretAccessKey(): string {
  return randomBytes(30).toString('base64')
}

/** The envelope context binding a stored secret to its access key id. */
export function secretContext(accessKeyId: string): Buffer {
  return Buffer.from(`macaw:access-key:${accessKeyId}`)
}

/** Unknown access key ids remembered at the most (each id is at most 128 characters). */
const MAX_UNKNOWN_IDS = 4096

export class CredentialResolver {
  private readonly cache = new Map<string, { value: Credential; at: number }>()
  /**
   * Ids with no active access key, so that a flood of one bad id does not hammer the store. Small
   * and bounded (about 1 MB); a flood of many ids only evicts itself and costs store lookups.
   */
  private readonly unknown = new Map<string, number>()
  /** Entries are re-read after this long even without a change notice (multi-node safety net). */
  ttlMs = 1000
  private epoch = 0
  private readonly unsubscribe: () => void

  private readonly store: IdentityStore & ChangeFeed
  private readonly partition: string
  private readonly policies: PolicyCache
  private readonly unwrapSecret: (record: AccessKeyRecord) => Promise<string>

  constructor(
    store: IdentityStore & ChangeFeed,
    partition: string,
    policies: PolicyCache,
    unwrapSecret: (record: AccessKeyRecord) => Promise<string>,
  ) {
    this.store = store
    this.partition = partition
    this.policies = policies
    this.unwrapSecret = unwrapSecret
    this.unsubscribe = store.onChange((change) => {
      if (change.kind === 'accessKey') {
        this.epoch++
        this.cache.delete(change.accessKeyId)
        this.unknown.delete(change.accessKeyId)
      } else if (change.kind === 'user' || change.kind === 'unknown') {
        // Rare: a user's policy changed or the user went away, or the store lost track. Drop everything.
        this.epoch++
        this.cache.clear()
        this.unknown.clear()
      }
    })
  }

  close(): void {
    this.unsubscribe()
  }

  async resolve(accessKeyId: string): Promise<Credential | undefined> {
    const cached = this.cache.get(accessKeyId)
    const now = performance.now()
    if (cached !== undefined && now - cached.at < this.ttlMs) return cached.value
    const unknownAt = this.unknown.get(accessKeyId)
    if (unknownAt !== undefined && now - unknownAt < this.ttlMs) return undefined
    const epoch = this.epoch
    const record = await this.store.getAccessKey(accessKeyId)
    let credential: Credential | null = null
    if (record && record.status === 'Active') {
      const arn =
        record.userName === undefined
          ? rootArn(this.partition, record.accountId)
          : userArn(this.partition, record.accountId, record.userName)
      let caller: Caller = { accountId: record.accountId, arn, accessKeyId, isRoot: record.userName === undefined }
      if (record.userName !== undefined) {
        const user = await this.store.getUser(record.accountId, record.userName)
        caller = { ...caller, userName: record.userName, identity: this.identityPolicy(user?.policy) }
        if (user === undefined) caller = { ...caller, identity: DENY_ALL }
      }
      credential = { caller, secretAccessKey: await this.unwrapSecret(record) }
    }
    if (epoch === this.epoch) {
      if (credential === null) {
        this.cache.delete(accessKeyId)
        remember(this.unknown, accessKeyId, now, MAX_UNKNOWN_IDS)
      } else {
        this.unknown.delete(accessKeyId)
        remember(this.cache, accessKeyId, { value: credential, at: now }, 10_000)
      }
    }
    return credential ?? undefined
  }

  private identityPolicy(text: string | undefined): Principal['identity'] {
    if (text === undefined) return undefined
    try {
      return this.policies.get(text, 'identity')
    } catch {
      // A stored policy that no longer compiles denies everything rather than nothing.
      return DENY_ALL
    }
  }
}

/** Sets an entry, first evicting the oldest one if the map is full. */
function remember<V>(map: Map<string, V>, id: string, value: V, max: number): void {
  map.delete(id)
  if (map.size >= max) map.delete(map.keys().next().value as string)
  map.set(id, value)
}
