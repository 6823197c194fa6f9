// The audit chain key (chain.ts): 32 random bytes, kept in the store only sealed under the root of
// trust (setting audit.chainKey), made by the first server to start. Sealed with it is the last
// record seq written before the chain was keyed: records after it must be keyed, so rewriting
// records as unkeyed ones fails too. Root rotation re-wraps it.
import { randomBytes } from 'node:crypto'
import { open, seal, type Roots } from '../crypto/envelope.js'
import type { Store } from '../store/store.js'
import type { RootOfTrust } from '../trust/root-of-trust.js'

export const CHAIN_KEY_SETTING = 'audit.chainKey'
export const CHAIN_KEY_CONTEXT = Buffer.from('macaw-audit-chain-key-v1')

export interface ChainKey {
  readonly key: Buffer
  /** Records up to this seq were written before the chain was keyed. */
  readonly unkeyedUpTo: number
}

/** The last stored audit record's seq (0 when none), read once when the chain key is made. */
async function lastSeq(store: Store): Promise<number> {
  let seq = (await store.auditAnchor()).seq
  for (;;) {
    const rows = await store.queryAudit({ afterSeq: seq, limit: 5000 })
    const last = rows.at(-1)
    if (last === undefined) return seq
    seq = last.seq
  }
}

/** The chain key, made and stored first if there is none (unless `create` is false). */
export async function loadChainKey(store: Store, root: RootOfTrust & Roots, create: boolean): Promise<ChainKey | undefined> {
  let stored = await store.getSetting(CHAIN_KEY_SETTING)
  if (stored === undefined) {
    if (!create) return undefined
    const plain = Buffer.alloc(40)
    randomBytes(32).copy(plain)
    plain.writeBigUInt64BE(BigInt(await lastSeq(store)), 32)
    // Two servers starting at once on one database: the first key stored is the one both use.
    stored = await store.initSetting(CHAIN_KEY_SETTING, (await seal(root, plain, CHAIN_KEY_CONTEXT)).toString('base64'))
    plain.fill(0)
  }
  const plain = await open(root, Buffer.from(stored, 'base64'), CHAIN_KEY_CONTEXT)
  if (plain.length !== 40) throw new Error('the audit chain key is malformed')
  const key = Buffer.from(plain.subarray(0, 32))
  const unkeyedUpTo = Number(plain.readBigUInt64BE(32))
  plain.fill(0)
  return { key, unkeyedUpTo }
}
