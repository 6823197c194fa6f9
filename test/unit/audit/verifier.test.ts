// The running chain verifier: a trail longer than one page is checked in one pass, page by page
// with requests served in between, and an edit of any indexed column is found, in records of the
// compact form (k2: hashes cover the columns), in those that hold their whole event (k1:, whose
// columns are checked against the event) and in the linked records of sealed batches (h3:, each
// batch's last record keyed), where a chain that does not end on a seal is refused too.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createHash } from 'node:crypto'
import { keyedChain, keyedChainV1, unsealedTail, verifyChain, type ChainState } from '../../../src/audit/chain.js'
import { auditEventText, auditRow, storedEvent } from '../../../src/audit/event.js'
import { ChainVerifier } from '../../../src/audit/verifier.js'
import { createLogger } from '../../../src/log.js'
import { auditInput } from './input.js'
import type { AuditFilter, AuditRow, LeaseStore, AuditStore } from '../../../src/store/store.js'

const KEY = Buffer.alloc(32, 7)

/**
 * Records as written now (compact) in batches of `batch` (each one's last record sealed, k2:, the
 * others linked, h3:; 1: every record sealed) or, `whole`, as written before the compact form (k1:),
 * from seq `from`.
 */
function trail(n: number, whole = false, from = 1, start = '', batch = 1): AuditRow[] {
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
    const hash = chain(prevHash, row.seq, row, (seq - from + 1) % batch === 0 || seq === from + n - 1)
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
  const forms = { k1: 'k1: whole events', k2: 'k2: compact', h3: 'h3: linked, in sealed batches' } as const
  for (const [column, value, form] of edits.flatMap(([c, v]) => (['k1', 'k2', 'h3'] as const).map((f) => [c, v, f] as const))) {
    it(`finds an edited ${column} column on a later page (${forms[form]})`, async () => {
      const whole = form === 'k1'
      const rows = form === 'h3' ? trail(1100, false, 1, '', 100) : trail(1100, whole)
      const at = 1050
      const edited = { ...rows[at - 1], [column]: value } as AuditRow
      if (value === undefined) delete (edited as { keyArn?: string }).keyArn
      rows[at - 1] = edited
      const verifier = new ChainVerifier(store(rows), { key: KEY, unkeyedUpTo: 0 }, createLogger('silent'))
      await verifier.verifyNow()
      assert.equal(verifier.report.problem?.seq, at)
      assert.match(verifier.report.problem?.reason ?? '', { k1: /indexed columns/, k2: /keyed hash \(edited\)/, h3: /linked hash \(edited\)/ }[form])
    })
  }

  it('checks sealed batches across pages: linked records, each batch ending on its keyed seal', async () => {
    const rows = trail(1234, false, 1, '', 37)
    assert.equal(rows.filter((r) => r.hash.startsWith('k2:')).length, Math.ceil(1234 / 37))
    assert.ok(rows.slice(0, 36).every((r) => r.hash.startsWith('h3:')) && rows[36]?.hash.startsWith('k2:'))
    const verifier = new ChainVerifier(store(rows), { key: KEY, unkeyedUpTo: 0 }, createLogger('silent'))
    await verifier.verifyNow()
    assert.equal(verifier.report.problem, undefined)
    assert.equal(verifier.report.verified, 1234)
  })

  it('refuses a chain whose newest records were rewritten as links without the key, or lost their seal', async () => {
    const rows = trail(1100, false, 1, '', 100)
    // Someone without the chain key edits record 1050 and recomputes every hash after it as a link
    // (a plain SHA-256 anyone can compute): each record checks against the one before it.
    const forged = rows.slice(0, 1049)
    let prevHash = forged.at(-1)?.hash ?? ''
    const linkOnly = keyedChain(Buffer.alloc(32, 1))
    for (const row of rows.slice(1049)) {
      const edited = row.seq === 1050 ? { ...row, principal: 'arn:aws:iam::999999999999:root' } : row
      const hash = linkOnly(prevHash, row.seq, edited, false)
      forged.push({ ...edited, prevHash, hash })
      prevHash = hash
    }
    const verifier = new ChainVerifier(store(forged), { key: KEY, unkeyedUpTo: 0 }, createLogger('silent'))
    await verifier.verifyNow()
    assert.equal(verifier.report.problem?.seq, 1001, 'from the first record after the last seal')
    assert.match(verifier.report.problem?.reason ?? '', /records 1001 to 1100 are not sealed by a keyed record/)

    // The last batch's seal removed: its other records are left unsealed.
    const cut = new ChainVerifier(store(rows.slice(0, -1)), { key: KEY, unkeyedUpTo: 0 }, createLogger('silent'))
    await cut.verifyNow()
    assert.match(cut.report.problem?.reason ?? '', /records 1001 to 1099 are not sealed/)
    // A whole batch removed from the tail is not seen (as with any truncation of the tail; docs/security.md).
    const whole = new ChainVerifier(store(rows.slice(0, 1000)), { key: KEY, unkeyedUpTo: 0 }, createLogger('silent'))
    await whole.verifyNow()
    assert.equal(whole.report.problem, undefined)
  })

  it('refuses linked records in a store without the chain key, and a linked hash of another form', () => {
    const rows = trail(10, false, 1, '', 10)
    assert.match(verifyChain({ seq: 0, hash: '' }, rows)?.reason ?? '', /linked to a keyed record, but the store has no audit chain key/)
    const [first] = rows
    assert.ok(first)
    const state: ChainState = { seq: 0, hash: '' }
    // A plain SHA-256 over the same text as the old unkeyed form, dressed as a link.
    const plain = `h3:${createHash('sha256').update(`macaw-audit-v1\n\n1\n`).update(first.event).digest('hex')}`
    assert.match(verifyChain({ seq: 0, hash: '' }, [{ ...first, hash: plain }], state, { key: KEY, unkeyedUpTo: 0 })?.reason ?? '', /linked hash \(edited\)/)
    const ok: ChainState = { seq: 0, hash: '' }
    assert.equal(verifyChain({ seq: 0, hash: '' }, rows.slice(0, 5), ok, { key: KEY, unkeyedUpTo: 0 }), undefined)
    assert.equal(unsealedTail(ok)?.seq, 1)
    assert.equal(verifyChain({ seq: 0, hash: '' }, rows.slice(5), ok, { key: KEY, unkeyedUpTo: 0 }), undefined)
    assert.equal(unsealedTail(ok), undefined)
  })
})
