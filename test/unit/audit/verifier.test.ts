// The running chain verifier: a trail longer than one page is checked in one pass, page by page
// with requests served in between, and an edit of any indexed column is found.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { keyedChain } from '../../../src/audit/chain.js'
import { auditEventText, auditRow } from '../../../src/audit/event.js'
import { ChainVerifier } from '../../../src/audit/verifier.js'
import { createLogger } from '../../../src/log.js'
import { auditInput } from './input.js'
import type { AuditFilter, AuditRow, LeaseStore, AuditStore } from '../../../src/store/store.js'

const KEY = Buffer.alloc(32, 7)

function trail(n: number): AuditRow[] {
  const chain = keyedChain(KEY)
  const rows: AuditRow[] = []
  let prevHash = ''
  for (let seq = 1; seq <= n; seq++) {
    const input = auditInput({
      time: 1_700_000_000_000 + seq,
      requestId: `r${seq}`,
      eventId: `e${seq}`,
      requestParameters: { keyId: 'k' },
      keyArn: `arn:aws:kms:us-east-1:111122223333:key/${seq % 3}`,
    })
    const text = auditEventText(input)
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

  for (const [column, value] of [
    ['principal', 'arn:aws:iam::111122223333:user/someone-else'],
    ['keyArn', undefined],
    ['time', 1],
    ['outcome', 'failure'],
    ['eventName', 'VerifyMac'],
  ] as const) {
    it(`finds an edited ${column} column on a later page`, async () => {
      const rows = trail(1100)
      const at = 1050
      const edited = { ...rows[at - 1], [column]: value } as AuditRow
      if (value === undefined) delete (edited as { keyArn?: string }).keyArn
      rows[at - 1] = edited
      const verifier = new ChainVerifier(store(rows), { key: KEY, unkeyedUpTo: 0 }, createLogger('silent'))
      await verifier.verifyNow()
      assert.equal(verifier.report.problem?.seq, at)
      assert.match(verifier.report.problem?.reason ?? '', /indexed columns/)
    })
  }
})
