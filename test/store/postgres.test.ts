// The store contract on PostgreSQL, plus what only a shared database has: changes pushed between
// store objects by LISTEN/NOTIFY, concurrent migration and writes, and failing fast (then
// recovering) when the database is unreachable. Needs MACAW_TEST_POSTGRES_URL; skipped without it.
import assert from 'node:assert/strict'
import { createServer, connect, type Server, type Socket } from 'node:net'
import { describe, it, type TestContext } from 'node:test'
import pg from 'pg'
import { MIGRATIONS } from '../../src/store/sql/migrations.js'
import {
  notifyPayloads,
  openPostgresStore,
  parsePayload,
  type PostgresStore,
  type PostgresStoreOptions,
} from '../../src/store/postgres/index.js'
import { StoreConflictError, type StoreChange, UNKNOWN_CHANGE } from '../../src/store/store.js'
import { createTestDatabase, NEEDS_POSTGRES, postgresUrlForTest } from '../helpers/postgres.js'
import { keyRecord, storeContract } from './contract.js'
import { waitFor } from '../helpers/wait.js'

const A = '111122223333'
const R = 'us-east-1'

storeContract(
  'postgres',
  async () => {
    const db = await createTestDatabase()
    assert.ok(db)
    try {
      const store = await openPostgresStore({ url: db.url, listen: true })
      return { store, cleanup: db.drop }
    } catch (err) {
      await db.drop()
      throw err
    }
  },
  NEEDS_POSTGRES,
)

async function freshUrl(t: TestContext): Promise<string> {
  const url = await postgresUrlForTest(t)
  assert.ok(url, 'MACAW_TEST_POSTGRES_URL')
  return url
}

/** Opens a store closed when the test ends (before its database is dropped: hooks run in order). */
async function open(t: TestContext, options: PostgresStoreOptions): Promise<PostgresStore> {
  const store = await openPostgresStore(options)
  t.after(() => store.close())
  return store
}


/**
 * A TCP relay in front of PostgreSQL, to cut every connection (as a server restart does) or to
 * swallow traffic (as a dead network does) without touching the shared server.
 */
class Relay {
  private readonly server: Server
  private readonly sockets = new Set<Socket>()
  private readonly target: { host: string; port: number }
  private blackhole = false
  port = 0

  constructor(target: { host: string; port: number }) {
    this.target = target
    this.server = createServer((downstream) => this.relay(downstream))
  }

  private relay(downstream: Socket): void {
    this.sockets.add(downstream)
    downstream.on('close', () => this.sockets.delete(downstream))
    downstream.on('error', () => downstream.destroy())
    if (this.blackhole) return
    const upstream = connect(this.target.port, this.target.host)
    this.sockets.add(upstream)
    upstream.on('close', () => {
      this.sockets.delete(upstream)
      downstream.destroy()
    })
    upstream.on('error', () => upstream.destroy())
    downstream.on('close', () => upstream.destroy())
    upstream.on('data', (chunk: Buffer) => {
      if (!this.blackhole) downstream.write(chunk)
    })
    downstream.on('data', (chunk: Buffer) => {
      if (!this.blackhole) upstream.write(chunk)
    })
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve))
    const address = this.server.address()
    assert.ok(address && typeof address === 'object')
    this.port = address.port
  }

  /** Drops every connection, as a restarting server would. */
  cut(): void {
    for (const socket of this.sockets) socket.destroy()
  }

  /** Stops passing bytes (both on open connections and new ones), or starts again. */
  setBlackhole(on: boolean): void {
    this.blackhole = on
    if (!on) this.cut()
  }

  async close(): Promise<void> {
    this.cut()
    await new Promise((resolve) => this.server.close(resolve))
  }
}

async function relayTo(t: TestContext, url: string): Promise<{ relay: Relay; url: string }> {
  const target = new URL(url)
  const relay = new Relay({ host: target.hostname, port: Number(target.port || 5432) })
  await relay.listen()
  t.after(() => relay.close())
  const via = new URL(url)
  via.hostname = '127.0.0.1'
  via.port = String(relay.port)
  return { relay, url: via.toString() }
}

describe('postgres store', () => {
  it('tells one store object, through LISTEN, about writes made through another within 1 s', NEEDS_POSTGRES, async (t) => {
    const url = await freshUrl(t)
    const writer = await open(t, { url, listen: false })
    const reader = await open(t, { url, listen: true })
    const own: StoreChange[] = []
    const seen: StoreChange[] = []
    writer.onChange((c) => own.push(c))
    reader.onChange((c) => seen.push(c))
    await writer.insertKey(keyRecord('shared'))
    const change = { kind: 'key', accountId: A, region: R, keyId: 'shared' }
    assert.deepEqual(own, [change])
    await waitFor('the change on the other store', () => seen.length > 0, { timeoutMs: 1000 })
    assert.deepEqual(seen, [change])
    // A grant change crosses with its grant id and the key version it made.
    const grant = { grantId: 'g1', accountId: A, region: R, keyId: 'shared', granteePrincipal: `arn:aws:iam::${A}:root`, operations: ['GenerateMac'], issuingAccount: `arn:aws:iam::${A}:root`, creationDate: 1 }
    await writer.createGrant(grant, 10)
    await waitFor('the grant change on the other store', () => seen.length > 1, { timeoutMs: 1000 })
    assert.deepEqual(seen[1], { kind: 'grant', accountId: A, region: R, keyId: 'shared', grantId: 'g1', version: 2 })
    // Its own writes reach a listening store once, not twice (its NOTIFY is skipped).
    seen.length = 0
    await reader.insertKey(keyRecord('mine'))
    await new Promise((resolve) => setTimeout(resolve, 200))
    assert.deepEqual(seen, [{ kind: 'key', accountId: A, region: R, keyId: 'mine' }])
  })

  it('round-trips imported-material and multi-Region fields, and finds expired and related keys', NEEDS_POSTGRES, async (t) => {
    const url = await freshUrl(t)
    const store = await open(t, { url, listen: false })
    const imported = keyRecord('imp', {
      origin: 'EXTERNAL',
      expirationModel: 'KEY_MATERIAL_EXPIRES',
      validTo: 5000,
      importCheck: 'digest',
      importParameters: { tokenDigest: 't', wrappingAlgorithm: 'RSAES_OAEP_SHA_256', wrappingKeySpec: 'RSA_2048', privateKey: Buffer.from([9, 8]), validTo: 7000 },
    })
    await store.insertKey(imported)
    assert.deepEqual(await store.getKey(A, R, 'imp'), { ...imported, version: 1, grantCount: 0 })
    const { material: _m, ...pending } = keyRecord('pending', { validTo: 10 })
    await store.insertKey(pending)
    assert.deepEqual((await store.listKeysWithExpiredMaterial(6000, 10)).map((k) => k.keyId), ['imp'])
    await store.insertKey(keyRecord('mrk-1', { multiRegion: true, primaryRegion: R }))
    await store.insertKey(keyRecord('mrk-1', { region: 'eu-west-1', multiRegion: true, primaryRegion: R }))
    assert.deepEqual((await store.listRelatedKeys(A, 'mrk-1')).map((k) => `${k.region}:${k.primaryRegion ?? ''}`), ['eu-west-1:us-east-1', 'us-east-1:us-east-1'])
  })

  it('migrates one fresh database from two stores opening at once', NEEDS_POSTGRES, async (t) => {
    const url = await freshUrl(t)
    const stores = await Promise.all([openPostgresStore({ url, listen: false }), openPostgresStore({ url, listen: false })])
    t.after(() => Promise.all(stores.map((s) => s.close())))
    await stores[0]?.insertKey(keyRecord('k'))
    assert.equal((await stores[1]?.getKey(A, R, 'k'))?.keyId, 'k')
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    try {
      const { rows } = await client.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version')
      assert.deepEqual(rows, MIGRATIONS.map((m) => ({ version: m.version })))
    } finally {
      await client.end()
    }
  })

  it('refuses a database written by a newer schema', NEEDS_POSTGRES, async (t) => {
    const url = await freshUrl(t)
    await (await openPostgresStore({ url, listen: false })).close()
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    await client.query('INSERT INTO schema_migrations (version, applied_at) VALUES (99, 0)')
    await client.end()
    await assert.rejects(openPostgresStore({ url, listen: false }), /schema version 99, newer than this macaw knows/)
  })

  it('lets exactly one of two concurrent updates of a key version win', NEEDS_POSTGRES, async (t) => {
    const url = await freshUrl(t)
    const a = await open(t, { url, listen: false })
    const b = await open(t, { url, listen: false })
    for (let round = 0; round < 5; round++) {
      const v1 = await a.insertKey(keyRecord(`k${round}`))
      const results = await Promise.allSettled([a.updateKey({ ...v1, state: 'Disabled' }), b.updateKey({ ...v1, description: 'b' })])
      const won = results.filter((r) => r.status === 'fulfilled')
      const lost = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []))
      assert.equal(won.length, 1)
      assert.equal(lost.length, 1)
      assert.ok(lost[0] instanceof StoreConflictError)
      assert.equal((await a.getKey(A, R, `k${round}`))?.version, 2)
    }
  })

  it('keeps the grant name check and the limit race-free across store objects', NEEDS_POSTGRES, async (t) => {
    const url = await freshUrl(t)
    const a = await open(t, { url, listen: false })
    const b = await open(t, { url, listen: false })
    await a.insertKey(keyRecord('k'))
    const grant = (id: string, name?: string) => ({
      grantId: id,
      accountId: A,
      region: R,
      keyId: 'k',
      ...(name === undefined ? {} : { name }),
      granteePrincipal: 'arn:aws:iam::444455556666:root',
      operations: ['GenerateMac'],
      issuingAccount: `arn:aws:iam::${A}:root`,
      creationDate: 1,
    })
    const named = await Promise.all([a.createGrant(grant('n1', 'same'), 10), b.createGrant(grant('n2', 'same'), 10)])
    assert.deepEqual(named.map((r) => r.status).sort(), ['created', 'existing'])
    const limited = await Promise.all(Array.from({ length: 6 }, (_, i) => (i % 2 ? a : b).createGrant(grant(`g${i}`), 4)))
    assert.equal(limited.filter((r) => r.status === 'created').length, 3)
    assert.equal((await a.grantsOfKey(A, R, 'k')).length, 4)
  })

  it('serializes audit appends from several store objects into one chain', NEEDS_POSTGRES, async (t) => {
    const url = await freshUrl(t)
    const a = await open(t, { url, listen: false })
    const b = await open(t, { url, listen: false })
    const chain = (prev: string, seq: number, row: { eventId: string }) => `${prev}>${seq}:${row.eventId}`
    const row = (id: string) => ({ time: 1, eventId: id, eventName: 'GenerateMac', accountId: A, principal: 'p', outcome: 'success' as const, event: '{}' })
    await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).appendAudit([row(`e${i}a`), row(`e${i}b`)], chain)))
    const all = await a.queryAudit({ limit: 100 })
    assert.equal(all.length, 40)
    let prev = ''
    for (const [i, r] of all.entries()) {
      assert.equal(r.seq, i + 1)
      assert.equal(r.prevHash, prev)
      assert.equal(r.hash, `${prev}>${r.seq}:${r.eventId}`)
      prev = r.hash
    }
  })

  it('fails fast when the database is unreachable', NEEDS_POSTGRES, async () => {
    const refused = Date.now()
    await assert.rejects(openPostgresStore({ url: 'postgres://macaw:macaw@127.0.0.1:1/macaw', listen: true }))
    assert.ok(Date.now() - refused < 3000, `took ${Date.now() - refused} ms`)
  })

  it('fails fast while the network swallows traffic, and recovers when it is back', NEEDS_POSTGRES, async (t) => {
    const { relay, url } = await relayTo(t, await freshUrl(t))
    const store = await open(t, { url, listen: true, statementTimeoutMs: 500 })
    await store.insertKey(keyRecord('k'))
    relay.setBlackhole(true)
    // On a pooled connection (client-side query timeout), then on a new one (connect timeout).
    for (const attempt of [() => store.getKey(A, R, 'k'), () => store.ping()]) {
      const started = Date.now()
      await assert.rejects(attempt())
      assert.ok(Date.now() - started < 3000, `took ${Date.now() - started} ms`)
    }
    relay.setBlackhole(false)
    assert.equal((await store.getKey(A, R, 'k'))?.keyId, 'k')
  })

  it('recovers from dropped connections and tells listeners that anything may have changed', NEEDS_POSTGRES, async (t) => {
    const direct = await freshUrl(t)
    const { relay, url } = await relayTo(t, direct)
    const writer = await open(t, { url: direct, listen: false })
    const reader = await open(t, { url, listen: true })
    const seen: StoreChange[] = []
    reader.onChange((c) => seen.push(c))
    await reader.getKey(A, R, 'warm the pool')
    relay.cut()
    await waitFor('the synthetic change', () => seen.length > 0, { timeoutMs: 3000 })
    assert.deepEqual(seen, [UNKNOWN_CHANGE])
    await reader.ping()
    seen.length = 0
    await writer.insertKey(keyRecord('after'))
    await waitFor('the change after reconnecting', () => seen.length > 0, { timeoutMs: 1000 })
    assert.deepEqual(seen, [{ kind: 'key', accountId: A, region: R, keyId: 'after' }])
  })
})

describe('postgres change payloads', () => {
  it('split into NOTIFY payloads under 8000 bytes and read back, skipping our own', () => {
    const changes: StoreChange[] = Array.from({ length: 500 }, (_, i) => ({ kind: 'accessKey', accessKeyId: `AKIA${String(i).padStart(16, '0')}` }))
    const payloads = notifyPayloads('me', changes)
    assert.ok(payloads.length > 1)
    for (const p of payloads) assert.ok(Buffer.byteLength(p) < 8000)
    assert.deepEqual(payloads.flatMap((p) => parsePayload('other', p)), changes)
    assert.deepEqual(payloads.flatMap((p) => parsePayload('me', p)), [])
    const setting: StoreChange = { kind: 'setting', name: 'root.current' }
    assert.deepEqual(notifyPayloads('me', [setting]).flatMap((p) => parsePayload('other', p)), [setting])
  })

  it('turn what cannot be read into an unknown change', () => {
    assert.deepEqual(parsePayload('me', 'not json'), [UNKNOWN_CHANGE])
    assert.deepEqual(parsePayload('me', '{"o":"x","c":[{"kind":"mystery"}]}'), [UNKNOWN_CHANGE])
    const huge: StoreChange = { kind: 'user', accountId: A, userName: 'x'.repeat(10_000) }
    assert.deepEqual(notifyPayloads('me', [huge]).flatMap((p) => parsePayload('other', p)), [UNKNOWN_CHANGE])
    // An older node's form of it: a user change in account '*'.
    assert.deepEqual(parsePayload('me', '{"o":"x","c":[{"kind":"user","accountId":"*","userName":"*"}]}'), [UNKNOWN_CHANGE])
    assert.deepEqual(parsePayload('me', '{"o":"x","c":[{"kind":"unknown"}]}'), [UNKNOWN_CHANGE])
  })
})
