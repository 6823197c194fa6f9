// How a batch of audit rows crosses to the writer thread: one flat array of primitives, eight
// values per row, instead of an array of objects. Structured cloning writes and reads every
// property name of every object; a dense array of strings and numbers is cloned about as fast as
// its characters can be copied (the objects cost about 37,000 instructions per record).
import type { KeyUseRow, NewAuditRow } from '../store/store.js'

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

/** GetKeyLastUsage's uses, the same way: three values per use. */
export function packUses(uses: readonly KeyUseRow[]): (string | number)[] {
  const out: (string | number)[] = []
  for (const u of uses) out.push(u.arn, u.time, u.use)
  return out
}

export function unpackUses(flat: readonly (string | number)[]): KeyUseRow[] {
  const uses: KeyUseRow[] = []
  for (let i = 0; i + 3 <= flat.length; i += 3) uses.push({ arn: flat[i] as string, time: flat[i + 1] as number, use: flat[i + 2] as string })
  return uses
}
