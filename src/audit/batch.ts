// How a batch of audit rows crosses to the writer thread: one flat array of primitives, eight
// values per row, instead of an array of objects. Structured cloning writes and reads every
// property name of every object; a dense array of strings and numbers is cloned about as fast as
// its characters can be copied (the objects cost about 37,000 instructions per record).
import type { KeyUse } from '../keys/last-usage.js'
import type { NewAuditRow } from '../store/store.js'

const FIELDS = 8

export function packRows(rows: readonly NewAuditRow[]): (string | number | null)[] {
  const out: (string | number | null)[] = []
  for (const r of rows) out.push(r.time, r.eventId, r.eventName, r.accountId, r.keyArn ?? null, r.principal, r.outcome, r.event)
  return out
}

export function unpackRows(flat: readonly (string | number | null)[]): NewAuditRow[] {
  const rows: NewAuditRow[] = []
  for (let i = 0; i + FIELDS <= flat.length; i += FIELDS) {
    const keyArn = flat[i + 4]
    rows.push({
      time: flat[i] as number,
      eventId: flat[i + 1] as string,
      eventName: flat[i + 2] as string,
      accountId: flat[i + 3] as string,
      ...(typeof keyArn === 'string' ? { keyArn } : {}),
      principal: flat[i + 5] as string,
      outcome: flat[i + 6] as NewAuditRow['outcome'],
      event: flat[i + 7] as string,
    })
  }
  return rows
}

/**
 * GetKeyLastUsage's noted uses, the same way: five values per use (its key ARN, then the use's
 * fields, null for an absent event id). The writer thread orders and serialises them
 * (keys/last-usage.ts keyUseRows): on the request thread that held the event loop for 50 to 60 ms
 * per flush with 100,000 keys in use.
 */
export function packUses(uses: Iterable<readonly [string, KeyUse]>): (string | number | null)[] {
  const out: (string | number | null)[] = []
  for (const [arn, u] of uses) out.push(arn, u.operation, u.time, u.eventId ?? null, u.requestId)
  return out
}

export function unpackUses(flat: readonly (string | number | null)[]): [string, KeyUse][] {
  const uses: [string, KeyUse][] = []
  for (let i = 0; i + 5 <= flat.length; i += 5) {
    const eventId = flat[i + 3]
    const use = { operation: flat[i + 1] as string, time: flat[i + 2] as number, ...(typeof eventId === 'string' ? { eventId } : {}), requestId: flat[i + 4] as string }
    uses.push([flat[i] as string, use])
  }
  return uses
}
