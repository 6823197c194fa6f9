// GetKeyLastUsage's memory of each key's last use: noted on the request path, stored in one
// transaction per flush, read back across processes and across the upgrade from settings.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { FLUSH_RETRY_MS, keyUseRows, LastUsage, MAX_NOTED, storeInTransactions } from '../../src/keys/last-usage.js'
import { openSqliteStore } from '../../src/store/sqlite/index.js'
import type { SettingStore } from '../../src/store/store.js'

function storeIn(t: { after: (fn: () => Promise<void> | void) => void }) {
  const dir = mkdtempSync(join(tmpdir(), 'macaw-last-usage-'))
  const store = openSqliteStore({ path: join(dir, 'macaw.db'), pollIntervalMs: 0 })
  t.after(async () => {
    await store.close()
    rmSync(dir, { recursive: true, force: true })
  })
  return store
}

const use = (time: number, requestId = `r${time}`) => ({ operation: 'GenerateMac', time, eventId: `e${time}`, requestId })

describe('last key usage', () => {
  it('is stored by a flush, seen by another process, and never goes back in time', async (t) => {
    const store = storeIn(t)
    const a = new LastUsage(store)
    const b = new LastUsage(store)
    await a.start(1)
    await b.start(2)
    for (let i = 0; i < 2500; i++) a.note(`arn:k${i}`, use(100 + i))
    assert.deepEqual(await b.get('arn:k7', 0), undefined, 'not flushed yet')
    assert.deepEqual(await a.get('arn:k7', 0), use(107), 'its own note at once')
    await a.flush()
    assert.deepEqual(await b.get('arn:k7', 0), use(107))
    assert.deepEqual(await b.get('arn:k2499', 0), use(2599), 'in the last of several transactions')
    b.note('arn:k7', use(50))
    await b.flush()
    assert.deepEqual(await a.get('arn:k7', 0), use(107), 'an older use does not replace a later one')
    assert.equal(await a.get('arn:k7', 108), undefined, 'not before the key was created')
  })

  it('keeps its notes through a store outage without starting a flush on every request', async () => {
    let now = 1_000_000
    let attempts = 0
    let down = true
    const stored: string[] = []
    const writer = {
      storeKeyUses: (uses: ReadonlyMap<string, unknown>) => {
        attempts++
        if (down) return Promise.reject(new Error('the store is down'))
        stored.push(...uses.keys())
        return Promise.resolve()
      },
    }
    const usage = new LastUsage({} as SettingStore, writer, () => now)
    const settle = () => new Promise((resolve) => setTimeout(resolve, 5))
    for (let i = 0; i < MAX_NOTED; i++) usage.note(`arn:k${i}`, use(i))
    await settle()
    const first = attempts
    assert.ok(first >= 1, 'over the bound: a flush')
    // Every further request notes a use; none starts another flush until the retry is due.
    for (let i = 0; i < 1000; i++) usage.note(`arn:k${i}`, use(MAX_NOTED + i))
    await settle()
    assert.equal(attempts, first)
    now += FLUSH_RETRY_MS
    down = false
    usage.note('arn:new', use(2 * MAX_NOTED))
    await usage.flush()
    assert.ok(attempts > first)
    // Nothing noted was lost: every key is stored, with its latest use.
    assert.equal(new Set(stored).size, MAX_NOTED + 1)
  })

  it('stores a flush in key order, whatever order the keys were used in', async (t) => {
    const store = storeIn(t)
    const written: string[] = []
    const storeKeyUses = store.storeKeyUses.bind(store)
    t.mock.method(store, 'storeKeyUses', (uses: Parameters<typeof storeKeyUses>[0]) => {
      written.push(...uses.map((u) => u.arn))
      return storeKeyUses(uses)
    })
    const usage = new LastUsage(store)
    await usage.start(1)
    const arns = Array.from({ length: 2500 }, (_, i) => `arn:k${String((i * 7919) % 2500).padStart(4, '0')}`)
    for (const [i, arn] of arns.entries()) usage.note(arn, use(100 + i))
    await usage.flush()
    assert.deepEqual(written, [...arns].sort(), 'one pass over the keys in order, across its transactions')
    assert.deepEqual(await new LastUsage(store).get(arns[0] ?? '', 0), use(100))
  })

  it('flushes through its writer when it has one (SQLite: the audit writer thread), and reads the store', async (t) => {
    const store = storeIn(t)
    const direct = t.mock.method(store, 'storeKeyUses')
    const writes: number[] = []
    const usage = new LastUsage(store, {
      // As the writer thread does: the whole flush at once, ordered and stored in transactions there.
      storeKeyUses: (uses) => {
        writes.push(uses.size)
        return storeInTransactions(store, keyUseRows(uses))
      },
    })
    await usage.start(1)
    for (let i = 0; i < 1500; i++) usage.note(`arn:k${i}`, use(100 + i))
    await usage.flush()
    assert.deepEqual(writes, [1500])
    assert.deepEqual(
      direct.mock.calls.map((c) => c.arguments[0].length),
      [1000, 500],
      'only as the writer called it, in transactions of 1,000',
    )
    assert.deepEqual(await new LastUsage(store).get('arn:k1499', 0), use(1599))
  })

  it('reads a use stored before the upgrade, as a setting', async (t) => {
    const store = storeIn(t)
    await store.putSetting('lastUsage.arn:old', JSON.stringify(use(5)))
    const usage = new LastUsage(store)
    await usage.start(1)
    assert.deepEqual(await usage.get('arn:old', 0), use(5))
    usage.note('arn:old', use(9))
    await usage.close()
    assert.deepEqual(await new LastUsage(store).get('arn:old', 0), use(9))
  })
})
