// The audit hash chain: each record's hash covers the previous record's hash, its position and its
// event text, so an edited, removed or reordered record breaks every hash after it.
import { createHash } from 'node:crypto'
import type { AuditRow, NewAuditRow } from '../store/store.js'
import { auditIndex } from './event.js'

export function chainHash(prevHash: string, row: NewAuditRow & { seq: number }): string {
  return createHash('sha256').update(`macaw-audit-v1\n${prevHash}\n${row.seq}\n${row.event}`).digest('hex')
}

export type ChainProblem = { readonly seq: number; readonly eventId?: string; readonly reason: string }

/**
 * Checks records in seq order against the chain, starting from the anchor (the last record removed
 * by retention). Returns the first problem, or undefined when the chain holds.
 */
export function verifyChain(anchor: { seq: number; hash: string }, rows: Iterable<AuditRow>, state = { ...anchor }): ChainProblem | undefined {
  for (const row of rows) {
    if (row.seq !== state.seq + 1) {
      return { seq: state.seq + 1, reason: `record ${state.seq + 1} is missing (next stored record is ${row.seq})` }
    }
    if (row.prevHash !== state.hash) return { seq: row.seq, eventId: row.eventId, reason: 'its previous-hash does not match the record before it' }
    if (chainHash(row.prevHash, row) !== row.hash) return { seq: row.seq, eventId: row.eventId, reason: 'its contents do not match its hash (edited)' }
    let index: NewAuditRow
    try {
      index = auditIndex(JSON.parse(row.event) as Record<string, unknown>, row.event)
    } catch {
      return { seq: row.seq, eventId: row.eventId, reason: 'its event is not valid JSON' }
    }
    const { seq: _seq, prevHash: _prev, hash: _hash, ...stored } = row
    if (JSON.stringify(sortKeys(index)) !== JSON.stringify(sortKeys(stored))) {
      return { seq: row.seq, eventId: row.eventId, reason: 'its indexed columns do not match its event (edited)' }
    }
    state.seq = row.seq
    state.hash = row.hash
  }
  return undefined
}

function sortKeys(o: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)))
}
