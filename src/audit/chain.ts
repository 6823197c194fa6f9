// The audit hash chain: each record's hash covers the previous record's hash, its position and its
// event text, so an edited, removed or reordered record breaks every hash after it.
//
// The chain is keyed: HMAC-SHA256 under the audit chain key, a random key stored in the store
// only sealed under the root of trust (chain-key.ts). Someone who can write the database but does
// not hold the root cannot make an edited record verify: recomputing a plain hash, or an HMAC under
// a key of their own, fails `macaw audit verify`. Records written before the chain was keyed (hash
// without the `k1:` prefix, up to the seq sealed with the key) verify as plain SHA-256 and are
// reported as such; any other unkeyed record is refused (no downgrade), and so is a store whose
// chain key is gone.
//
// Two keyed forms. `k2:` covers the record's indexed columns as well as its stored event, which is
// in the compact form (event.ts) and means nothing without them. `k1:` (records written before the
// compact form, each holding its whole event) covers the event text only, so verify also checks
// that its columns are those derived from that text.
//
// Sealed batches. A batch's last record is keyed (`k2:`, its seal); the records before it are
// linked (`h3:`): a plain SHA-256 over the same things, previous hash included. Editing a linked
// record changes every hash after it up to the seal, whose keyed hash covers its previous hash, so
// it fails there; and a chain may not end on a linked record (verify refuses an unsealed tail), so
// rewriting the newest records as links fails too. A keyed HMAC per record was the audit writer's
// largest single cost (createHmac sets up OpenSSL contexts on every call: about 49,000
// instructions a record under callgrind, against about 12,000 for a one-shot SHA-256;
// docs/performance.md).
import { createHash, createHmac, hash, timingSafeEqual } from 'node:crypto'
import type { AuditRow, ChainFn, NewAuditRow } from '../store/store.js'
import { auditIndex } from './event.js'

const KEYED = 'k2:'
const KEYED_V1 = 'k1:'
const LINKED = 'h3:'

/** The unkeyed hash of records written before the chain was keyed (verification only). */
export function plainChainHash(prevHash: string, seq: number, row: NewAuditRow): string {
  return createHash('sha256').update(`macaw-audit-v1\n${prevHash}\n${seq}\n`).update(row.event).digest('hex')
}

/**
 * The indexed columns as one line of JSON (each value a JSON token, so no column can pass for
 * another whatever it holds; lone surrogates are escaped, so no two texts hash alike).
 */
function columnsLine(row: NewAuditRow): string {
  return JSON.stringify([row.time, row.eventId, row.eventName, row.accountId, row.keyArn ?? null, row.principal, row.outcome])
}

/** A linked record's hash (`h3:`): what a seal's keyed hash covers, unkeyed. */
function linkHash(prevHash: string, seq: number, row: NewAuditRow): string {
  // crypto.hash: one native call, no Hash object (whose set-up is most of a short text's cost).
  return LINKED + hash('sha256', `macaw-audit-link-v1\n${prevHash}\n${seq}\n${columnsLine(row)}\n${row.event}`, 'hex')
}

/**
 * The keyed chain under `key`, as records are written now: `sealed` (a batch's last record, and
 * the default) gets the keyed hash (`k2:`), any other record a link (`h3:`).
 */
export function keyedChain(key: Buffer): ChainFn {
  // A copy of its own: the caller may wipe its buffer.
  const own = Buffer.from(key)
  // Two updates hash the same bytes as one over the joined text, without building that text.
  return (prevHash, seq, row, sealed = true) =>
    sealed ? KEYED + createHmac('sha256', own).update(`macaw-audit-v3\n${prevHash}\n${seq}\n${columnsLine(row)}\n`).update(row.event).digest('hex') : linkHash(prevHash, seq, row)
}

/** The keyed chain of records written before the compact form (`k1:`; verification, and tests that build such records). */
export function keyedChainV1(key: Buffer): ChainFn {
  const own = Buffer.from(key)
  return (prevHash, seq, row) => KEYED_V1 + createHmac('sha256', own).update(`macaw-audit-v2\n${prevHash}\n${seq}\n`).update(row.event).digest('hex')
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

export type ChainProblem = { readonly seq: number; readonly eventId?: string; readonly reason: string }

export interface ChainState {
  seq: number
  hash: string
  /** Records verified with the unkeyed hash (written before the chain was keyed). */
  unkeyed?: number
  /** A keyed record has been seen: unkeyed ones may not follow. */
  keyed?: boolean
  /** The first of the linked (`h3:`) records since the last seal, while there are some. */
  unsealedFrom?: number
}

/**
 * Checks records in seq order against the chain, starting from the anchor (the last record removed
 * by retention). Returns the first problem, or undefined when the chain holds so far; once the
 * last record has been checked, `unsealedTail(state)` says whether the chain ends sealed.
 */
export function verifyChain(
  anchor: { seq: number; hash: string },
  rows: Iterable<AuditRow>,
  state: ChainState = { ...anchor },
  key?: { readonly key: Buffer; readonly unkeyedUpTo: number },
): ChainProblem | undefined {
  const keyed = key === undefined ? undefined : keyedChain(key.key)
  const keyedV1 = key === undefined ? undefined : keyedChainV1(key.key)
  for (const row of rows) {
    if (row.seq !== state.seq + 1) {
      return { seq: state.seq + 1, reason: `record ${state.seq + 1} is missing (next stored record is ${row.seq})` }
    }
    if (row.prevHash !== state.hash) return { seq: row.seq, eventId: row.eventId, reason: 'its previous-hash does not match the record before it' }
    const v2 = row.hash.startsWith(KEYED)
    const linked = row.hash.startsWith(LINKED)
    if (linked) {
      // Only ever written with a keyed chain: without its key, the seal cannot be checked.
      if (key === undefined) return { seq: row.seq, eventId: row.eventId, reason: 'it is linked to a keyed record, but the store has no audit chain key' }
      if (!sameText(linkHash(row.prevHash, row.seq, row), row.hash)) return { seq: row.seq, eventId: row.eventId, reason: 'its contents do not match its linked hash (edited)' }
      state.keyed = true
      state.unsealedFrom ??= row.seq
    } else if (v2 || row.hash.startsWith(KEYED_V1)) {
      const chain = v2 ? keyed : keyedV1
      if (chain === undefined) return { seq: row.seq, eventId: row.eventId, reason: 'it is keyed, but the store has no audit chain key' }
      if (!sameText(chain(row.prevHash, row.seq, row), row.hash)) return { seq: row.seq, eventId: row.eventId, reason: 'its contents do not match its keyed hash (edited)' }
      state.keyed = true
      // A seal: the links before it hold.
      delete state.unsealedFrom
    } else {
      if (state.keyed === true || key === undefined || row.seq > key.unkeyedUpTo) {
        return { seq: row.seq, eventId: row.eventId, reason: 'it is not keyed, but the chain was keyed before it was written (rewritten)' }
      }
      if (plainChainHash(row.prevHash, row.seq, row) !== row.hash) return { seq: row.seq, eventId: row.eventId, reason: 'its contents do not match its hash (edited)' }
      state.unkeyed = (state.unkeyed ?? 0) + 1
    }
    // A `k2:` or `h3:` hash covers the columns itself.
    const mismatch = v2 || linked ? undefined : columnsMismatch(row)
    if (mismatch !== undefined) return { seq: row.seq, eventId: row.eventId, reason: mismatch }
    state.seq = row.seq
    state.hash = row.hash
  }
  return undefined
}

/**
 * verifyChain over one page of records read in seq order; the `last` page (the read found no more)
 * must also leave the chain ending on a seal (unsealedTail).
 */
export function verifyPage(
  anchor: { seq: number; hash: string },
  rows: Iterable<AuditRow>,
  state: ChainState,
  key: { readonly key: Buffer; readonly unkeyedUpTo: number } | undefined,
  last: boolean,
): ChainProblem | undefined {
  return verifyChain(anchor, rows, state, key) ?? (last ? unsealedTail(state) : undefined)
}

/**
 * After the last record: the chain must end on a seal. Every batch is written in one transaction
 * ending with its seal, so linked records with no seal after them were rewritten (or the seal was
 * removed) by someone without the chain key.
 */
export function unsealedTail(state: ChainState): ChainProblem | undefined {
  if (state.unsealedFrom === undefined) return undefined
  return { seq: state.unsealedFrom, reason: `records ${state.unsealedFrom} to ${state.seq} are not sealed by a keyed record (rewritten, or their seal removed)` }
}

/**
 * What is wrong with the columns of a record that holds its whole event (`k1:` and unkeyed), whose
 * hash covers the event only: they must be those derived from it. (A `k2:` hash covers the columns
 * themselves.)
 */
function columnsMismatch(row: AuditRow): string | undefined {
  let index: NewAuditRow
  try {
    index = auditIndex(JSON.parse(row.event) as Record<string, unknown>, row.event)
  } catch {
    return 'its event is not valid JSON'
  }
  return sameIndex(index, row) ? undefined : 'its indexed columns do not match its event (edited)'
}

/** The indexed columns, each as derived from the event (the event text is the row's own). */
type IndexedColumn = Exclude<keyof NewAuditRow, 'event'>
const INDEXED = Object.keys({
  time: true,
  eventId: true,
  eventName: true,
  accountId: true,
  keyArn: true,
  principal: true,
  outcome: true,
} satisfies Record<IndexedColumn, true>) as IndexedColumn[]

/**
 * Whether the stored columns are those derived from the event. Column by column: serialising both
 * (event text included) to compare them cost more than the rest of a record's verification.
 */
function sameIndex(derived: NewAuditRow, stored: AuditRow): boolean {
  return INDEXED.every((column) => derived[column] === stored[column])
}
