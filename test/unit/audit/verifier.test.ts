// The running chain verifier: a trail longer than one page is checked in one pass, page by page
// with requests served in between, and an edit of any indexed column is found, in records of the
// compact form (k2: hashes cover the columns) and in those that hold their whole event (k1:, whose
// columns are checked against the event).
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { keyedChain, keyedChainV1 } from '../../../src/audit/chain.js'
import { auditEventText, auditRow, storedEvent } from '../../../src/audit/event.js'
import { ChainVerifier } from '../../../src/audit/verifier.js'
import { createLogger } from '../../../src/log.js'
import { auditInput } from './input.js'
import type { AuditFilter, AuditRow, LeaseStore, AuditStore } from '../../../src/store/store.js'

const KEY = Buffer.alloc(32, 7)

/** Records as written now (compact, k2:) or, `whole`, as written before the compact form (k1:), from seq `from`. */
function trail(n: number, whole = false, from = 1, start = ''): AuditRow[] {
  const chain = whole ? keyedChainV1(KEY) : keyedChain(KEY)
  const rows: AuditRow[] = []
  let prevHash = start
  for (let seq = from; seq < from + n; seq++) {
    const input = auditInput({
      time: 1_700_000_000_000 + seq,
      requestId: `r${seq}`,
      eventId: `e${seq}`,
      requestParameters: { keyId: 'k' },
      keyArn: `arn:aws:kms:us-east-1:111122223333:key/${seq % 3}`,
    })
    const text = whole ? auditEventText(input) : storedEvent(input)
    const row = { ...auditRow(input, text), seq }
    const hash = chain(prevHash, row.seq, row)
    rows.push({ ...row, prevHash, hash })
    prevHash = hash
  }
  return rows
}

/** The verifier's view of a store holding `rows`; counts the pages read. */
type VerifiedStore = Pick<AuditStore, 'queryAudit' | 'auditAnchor'> & LeaseStore & { pages: number }

function store(rows: AuditRow[]): VerifiedStore {
  const s: VerifiedStore = {
    pages: 0,
    queryAudit(filter: AuditFilter): Promise<AuditRow[]> {
      s.pages++
      const after = filter.afterSeq ?? 0
      return Promise.resolve(rows.filter((r) => r.seq > after).slice(0, filter.limit))
    },
    auditAnchor: () => Promise.resolve({ seq: 0, hash: '' }),
    acquireLease: () => Promise.resolve(true),
  }
  return s
}

describe('audit chain verifier', () => {
  it('checks a trail of several pages in one pass, letting the event loop turn between pages', async () => {
    const rows = trail(1234)
    const s = store(rows)
    const verifier = new ChainVerifier(s, { key: KEY, unkeyedUpTo: 0 }, createLogger('silent'))
    let turns = 0
    const tick = (): void => {
      turns++
      if (running) setImmediate(tick)
    }
    let running = true
    setImmediate(tick)
    await verifier.verifyNow()
    running = false
    assert.equal(verifier.report.verified, 1234)
    assert.equal(verifier.report.problem, undefined)
    assert.ok(s.pages >= 3, `read in pages (${s.pages})`)
    assert.ok(turns >= s.pages - 1, `the event loop turned between pages (${turns} turns, ${s.pages} pages)`)
  })

  it('checks records written before the compact form, and the compact ones after them', async () => {
    const older = trail(700, true)
    const rows = [...older, ...trail(700, false, 701, older.at(-1)?.hash)]
    const verifier = new ChainVerifier(store(rows), { key: KEY, unkeyedUpTo: 0 }, createLogger('silent'))
    await verifier.verifyNow()
    assert.equal(verifier.report.problem, undefined)
    assert.equal(verifier.report.verified, 1400)
  })

  it('hashes every column: rows that differ in one column only, even by a lone surrogate, hash apart', () => {
    const chain = keyedChain(KEY)
    const [row] = trail(1)
    assert.ok(row)
    const variants = [row, { ...row, eventName: 'Op\ud800' }, { ...row, eventName: 'Op\ud801' }, { ...row, principal: `${row.principal}\u0000` }, { ...row, keyArn: '' }]
    const { keyArn: _, ...withoutKey } = row
    const hashes = new Set([...variants, withoutKey].map((r) => chain('', 1, r)))
    assert.equal(hashes.size, variants.length + 1)
  })

  const edits: readonly (readonly [keyof AuditRow, string | number | undefined])[] = [
    ['principal', 'arn:aws:iam::111122223333:user/someone-else'],
    ['keyArn', undefined],
    ['time', 1],
    ['outcome', 'failure'],
    ['eventName', 'VerifyMac'],
    ['accountId', '999999999999'],
    ['eventId', 'e1'],
  ]
  for (const [column, value, whole] of edits.flatMap(([c, v]) => [[c, v, false] as const, [c, v, true] as const])) {
    it(`finds an edited ${column} column on a later page (${whole ? 'k1: whole events' : 'k2: compact'})`, async () => {
      const rows = trail(1100, whole)
      const at = 1050
      const edited = { ...rows[at - 1], [column]: value } as AuditRow
      if (value === undefined) delete (edited as { keyArn?: string }).keyArn
      rows[at - 1] = edited
      const verifier = new ChainVerifier(store(rows), { key: KEY, unkeyedUpTo: 0 }, createLogger('silent'))
      await verifier.verifyNow()
      assert.equal(verifier.report.problem?.seq, at)
      assert.match(verifier.report.problem?.reason ?? '', whole ? /indexed columns/ : /keyed hash \(edited\)/)
    })
  }
})
