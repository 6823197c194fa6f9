import assert from 'node:assert/strict'
import { readdirSync, rmSync, statSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { describe, it, type TestContext } from 'node:test'
import Database from 'better-sqlite3'
import { MIGRATIONS, pendingMigrations } from '../../src/store/sql/migrations.js'
import { openSqliteStore, SQLITE_WORDS } from '../../src/store/sqlite/index.js'
import type { StoreChange } from '../../src/store/store.js'
import { keyRecord, storeContract } from './contract.js'

storeContract('sqlite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'macaw-store-'))
  return { store: openSqliteStore({ path: join(dir, 'macaw.db') }), cleanup: () => rm(dir, { recursive: true, force: true }) }
})

async function dbPath(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'macaw-store-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  return join(dir, 'macaw.db')
}

describe('sqlite store', () => {
  it('keeps data across reopening, in WAL mode with synchronous=FULL', async (t) => {
    const path = await dbPath(t)
    const a = openSqliteStore({ path })
    await a.insertKey(keyRecord('kept'))
    await a.close()
    const b = openSqliteStore({ path })
    t.after(() => b.close())
    assert.equal((await b.getKey('111122223333', 'us-east-1', 'kept'))?.keyId, 'kept')
    assert.equal(b.integrityCheck(), 'ok')
    const db = new Database(path, { readonly: true })
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal')
    for (const file of [path, `${path}-wal`, `${path}-changed`]) assert.equal(statSync(file).mode & 0o777, 0o600, file)
    assert.deepEqual(
      db.prepare('SELECT version FROM schema_migrations ORDER BY version').all(),
      MIGRATIONS.map((m) => ({ version: m.version })),
    )
    db.close()
  })

  it('tells one store object about writes made through another on the same file', async (t) => {
    const path = await dbPath(t)
    const writer = openSqliteStore({ path, pollIntervalMs: 0 })
    const reader = openSqliteStore({ path, pollIntervalMs: 10 })
    t.after(async () => {
      await writer.close()
      await reader.close()
    })
    const seen: StoreChange[] = []
    reader.onChange((c) => seen.push(c))
    await writer.insertKey(keyRecord('shared'))
    for (let i = 0; i < 200 && seen.length === 0; i++) await new Promise((r) => setTimeout(r, 10))
    assert.deepEqual(seen, [{ kind: 'key', accountId: '111122223333', region: 'us-east-1', keyId: 'shared' }])
    const grant = { grantId: 'g1', accountId: '111122223333', region: 'us-east-1', keyId: 'shared', granteePrincipal: 'arn:aws:iam::111122223333:root', operations: ['GenerateMac'], issuingAccount: 'arn:aws:iam::111122223333:root', creationDate: 1 }
    await writer.createGrant(grant, 10)
    for (let i = 0; i < 200 && seen.length === 1; i++) await new Promise((r) => setTimeout(r, 10))
    assert.deepEqual(seen[1], { kind: 'grant', accountId: '111122223333', region: 'us-east-1', keyId: 'shared', grantId: 'g1', version: 2 })
  })

  it("does not lose another connection's change when it writes before polling", async (t) => {
    const path = await dbPath(t)
    const a = openSqliteStore({ path, pollIntervalMs: 0 })
    const b = openSqliteStore({ path, pollIntervalMs: 0 })
    t.after(async () => {
      await a.close()
      await b.close()
    })
    const seen: StoreChange[] = []
    b.onChange((c) => seen.push(c))
    await a.insertKey(keyRecord('from-a'))
    // b writes first (as an audit flush would), and only then looks for others' changes.
    await b.insertKey(keyRecord('from-b'))
    b.catchUp()
    assert.deepEqual(
      seen.map((c) => (c.kind === 'key' ? c.keyId : c.kind)),
      ['from-a', 'from-b'],
    )
  })

  it("sees in catchUp() every other connection's acknowledged change at once, and nothing twice", async (t) => {
    const path = await dbPath(t)
    // No periodic poll: only catchUp() can deliver, so each change must have moved the stamp.
    const [a, b, c] = [0, 1, 2].map(() => openSqliteStore({ path, pollIntervalMs: 0 }))
    t.after(async () => {
      for (const s of [a, b, c]) await s?.close()
    })
    assert.ok(a && b && c)
    const seen: string[] = []
    c.onChange((change) => seen.push(change.kind === 'key' ? change.keyId : change.kind))
    for (let i = 0; i < 20; i++) {
      await (i % 2 === 0 ? a : b).insertKey(keyRecord(`k${String(i)}`))
      c.catchUp()
      assert.deepEqual(seen, [`k${String(i)}`], `change ${String(i)} right after it was acknowledged`)
      // A write that logs no change (an audit append) moves nothing, and a second look finds nothing.
      await a.appendAudit([{ time: i, eventId: `e${String(i)}`, eventName: 'GenerateMac', accountId: '111122223333', principal: 'root', outcome: 'success', event: '{}' }], () => 'h')
      c.catchUp()
      assert.deepEqual(seen, [`k${String(i)}`])
      seen.length = 0
    }
  })

  it('makes a missing change stamp again, whole, and leaves nothing aside', async (t) => {
    const path = await dbPath(t)
    await openSqliteStore({ path, pollIntervalMs: 0 }).close()
    rmSync(`${path}-changed`)
    const stores = Array.from({ length: 4 }, () => openSqliteStore({ path, pollIntervalMs: 0 }))
    t.after(async () => {
      for (const s of stores) await s.close()
    })
    assert.equal(statSync(`${path}-changed`).size, 8)
    const seen: StoreChange[] = []
    stores[3]?.onChange((change) => seen.push(change))
    await stores[0]?.insertKey(keyRecord('after'))
    stores[3]?.catchUp()
    assert.equal(seen.length, 1)
    assert.deepEqual(readdirSync(dirname(path)).filter((f) => f.endsWith('.tmp')), [], 'no file left aside')
  })

  it('refuses a database written by a newer schema', async (t) => {
    const path = await dbPath(t)
    await openSqliteStore({ path }).close()
    const db = new Database(path)
    db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (99, 0)').run()
    db.close()
    assert.throws(() => openSqliteStore({ path }), /schema version 99, newer than this macaw knows/)
  })

  it('counts the grants and keys there already were when it upgrades a version 6 database', async (t) => {
    const path = await dbPath(t)
    // A database as macaw left it before migration 7: keys and grants, no grant_count.
    const db = new Database(path)
    db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)')
    for (const m of pendingMigrations(0, SQLITE_WORDS).filter((m) => m.version <= 6)) {
      db.exec(m.sql)
      db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, 0)').run(m.version)
    }
    const insertKey = db.prepare("INSERT INTO keys (account_id, region, key_id, state, creation_date, version, doc) VALUES ('111122223333', 'us-east-1', ?, 'Enabled', 1, 1, '{}')")
    const insertGrant = db.prepare(
      "INSERT INTO grants (grant_id, account_id, region, key_id, grantee, operations, issuing_account, creation_date) VALUES (?, '111122223333', 'us-east-1', ?, 'arn:aws:iam::111122223333:root', '[]', 'arn:aws:iam::111122223333:root', 1)",
    )
    insertKey.run('with')
    insertKey.run('without')
    for (const id of ['g1', 'g2', 'g3']) insertGrant.run(id, 'with')
    db.close()
    const store = openSqliteStore({ path, pollIntervalMs: 0 })
    t.after(() => store.close())
    const count = async (keyId: string) => (await store.getKey('111122223333', 'us-east-1', keyId))?.grantCount
    assert.equal(await count('with'), 3)
    assert.equal(await count('without'), 0)
    assert.equal(await store.countKeys({ accountId: '111122223333', region: 'us-east-1' }), 2, 'the key count starts from the keys there are')
  })
})
