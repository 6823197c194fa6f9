// The SQLite audit writer thread: a thread that ended by itself (here: its database could not be
// opened) is started again on the next batch, so that one failure does not leave a server refusing
// every request for good; the batch it lost is written by the retry, once.
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it, type TestContext } from 'node:test'
import { auditRow, storedEvent } from '../../../src/audit/event.js'
import { SqliteAuditSink, USES_PER_PART } from '../../../src/audit/sqlite-sink.js'
import type { KeyUse } from '../../../src/keys/last-usage.js'
import { openSqliteStore, type SqliteStore } from '../../../src/store/sqlite/index.js'
import { auditInput } from './input.js'

const KEY = Buffer.alloc(32, 9)

function rows(from: number, n: number) {
  return Array.from({ length: n }, (_, i) => {
    const input = auditInput({ time: 1_700_000_000_000 + from + i, requestId: `r${from + i}`, eventId: `e${from + i}` })
    return auditRow(input, storedEvent(input))
  })
}

/** A fresh directory, removed after the test, and a store at `macaw.db` in it, closed after the test. */
function storeIn(t: TestContext): { path: string; store: SqliteStore } {
  const dir = mkdtempSync(join(tmpdir(), 'macaw-sink-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const path = join(dir, 'macaw.db')
  const store = openSqliteStore({ path, pollIntervalMs: 0 })
  t.after(() => store.close())
  return { path, store }
}

describe('the SQLite audit writer thread', () => {
  it('is started again after it ended, and the retried batch is stored once', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'macaw-sink-'))
    t.after(() => rmSync(dir, { recursive: true, force: true }))
    const path = join(dir, 'later', 'macaw.db')
    const sink = new SqliteAuditSink(path, KEY)
    t.after(() => sink.close())
    // The directory is not there yet: the thread cannot open the database and ends.
    await assert.rejects(sink.appendAudit(rows(1, 3)), /directory does not exist|audit writer thread exited/)
    mkdirSync(join(dir, 'later'))
    const store = openSqliteStore({ path, pollIntervalMs: 0 })
    t.after(() => store.close())
    await sink.appendAudit(rows(1, 3))
    await sink.appendAudit(rows(4, 2))
    const stored = await store.queryAudit({ limit: 100 })
    assert.deepEqual(
      stored.map((r) => [r.seq, r.eventId]),
      [1, 2, 3, 4, 5].map((seq) => [seq, `e${String(seq)}`]),
    )
  })

  it('refuses batches once closed, without starting a thread', async (t) => {
    const { path, store } = storeIn(t)
    const sink = new SqliteAuditSink(path, KEY)
    await sink.appendAudit(rows(1, 1))
    await sink.close()
    await assert.rejects(sink.appendAudit(rows(2, 1)), /closed/)
    assert.equal((await store.queryAudit({ limit: 10 })).length, 1)
  })

  it('stores a flush of key uses sent in several parts, each key once, with its use', async (t) => {
    const { path, store } = storeIn(t)
    const sink = new SqliteAuditSink(path, KEY)
    t.after(() => sink.close())
    const n = 2 * USES_PER_PART + 7
    const uses = new Map<string, KeyUse>(Array.from({ length: n }, (_, i) => [`arn:k${String(n - i)}`, { operation: 'GenerateMac', time: 1000 + i, ...(i % 2 === 0 ? { eventId: `e${String(i)}` } : {}), requestId: `r${String(i)}` }] as const))
    await sink.storeKeyUses(uses)
    for (const arn of ['arn:k1', `arn:k${String(USES_PER_PART)}`, `arn:k${String(n)}`]) {
      const stored = await store.getKeyUse(arn)
      assert.deepEqual(JSON.parse(stored?.use ?? 'null'), uses.get(arn), arn)
      assert.equal(stored?.time, uses.get(arn)?.time)
    }
  })
})
