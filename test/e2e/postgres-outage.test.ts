// A node whose PostgreSQL goes away under load: requests that need the database fail fast with
// DependencyTimeoutException (500), cached keys stop serving within the cache TTL, /readyz says
// 503, and the node recovers by itself when the database is back, having lost no acknowledged key.
// The outage is a TCP relay this test controls, so the shared PostgreSQL server is never stopped.
// Needs MACAW_TEST_POSTGRES_URL and a built dist/; skipped without the URL.
import assert from 'node:assert/strict'
import { mkdtemp } from 'node:fs/promises'
import { connect, createServer, type Server, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it, type TestContext } from 'node:test'
import { CreateKeyCommand, DescribeKeyCommand, DisableKeyCommand, GenerateMacCommand, KMSClient } from '@aws-sdk/client-kms'
import { REGION, ROOT } from '../helpers/server.js'
import { hmacKey, MESSAGE, rejectsWith } from '../helpers/keys.js'
import { spawnServer, type ServerProcess, removeDataDir } from '../helpers/process.js'
import { createTestDatabase, NEEDS_POSTGRES } from '../helpers/postgres.js'
import { waitFor } from '../helpers/wait.js'

/** What "fail fast" means here: well under an SDK's default timeouts. */
const FAST_MS = 3000
/** Cache TTL (1 s by default) plus slack for the request in flight and a loaded test machine. */
const STALE_BOUND_MS = 2000

/** A TCP relay to PostgreSQL that can go down (drop every connection, refuse new ones) and up. */
class Relay {
  private readonly server: Server
  private readonly sockets = new Set<Socket>()
  private readonly target: { host: string; port: number }
  private down = false
  port = 0

  constructor(target: { host: string; port: number }) {
    this.target = target
    this.server = createServer((downstream) => this.relay(downstream))
  }

  private relay(downstream: Socket): void {
    downstream.on('error', () => downstream.destroy())
    if (this.down) {
      // As a stopped server: the client's connect attempt fails at once.
      downstream.resetAndDestroy()
      return
    }
    const upstream = connect(this.target.port, this.target.host)
    upstream.on('error', () => upstream.destroy())
    for (const [from, to] of [
      [downstream, upstream],
      [upstream, downstream],
    ] as const) {
      this.sockets.add(from)
      from.on('close', () => {
        this.sockets.delete(from)
        to.destroy()
      })
      from.pipe(to)
    }
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve))
    const address = this.server.address()
    assert.ok(address && typeof address === 'object')
    this.port = address.port
  }

  setDown(down: boolean): void {
    this.down = down
    if (down) for (const socket of this.sockets) socket.resetAndDestroy()
  }

  async close(): Promise<void> {
    this.setDown(true)
    await new Promise((resolve) => this.server.close(resolve))
  }
}

interface Outcome {
  readonly op: 'GenerateMac' | 'CreateKey'
  readonly started: number
  readonly ended: number
  /** undefined on success */
  readonly error?: string
  readonly status?: number
  readonly keyId?: string
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function readyz(url: string): Promise<number> {
  try {
    return (await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(FAST_MS) })).status
  } catch {
    return 0
  }
}


/** A node reached through the relay, and a second node on the direct URL (the writer that stays up). */
async function setUp(t: TestContext) {
  const db = await createTestDatabase()
  assert.ok(db, 'MACAW_TEST_POSTGRES_URL')
  const dirs: string[] = []
  const processes: ServerProcess[] = []
  const clients: KMSClient[] = []
  const target = new URL(db.url)
  const relay = new Relay({ host: target.hostname, port: Number(target.port || 5432) })
  // Hooks run in the order they are added: clients, servers, relay, the database, then the directories.
  t.after(async () => {
    for (const c of clients) c.destroy()
    await Promise.allSettled(processes.map((p) => Promise.race([p.stop(), sleep(5000).then(() => p.kill9())])))
    await relay.close()
    await db.drop()
    await Promise.allSettled(dirs.map((d) => removeDataDir(d)))
  })
  await relay.listen()
  const viaRelay = new URL(db.url)
  viaRelay.hostname = '127.0.0.1'
  viaRelay.port = String(relay.port)
  const node = async (name: string, store: string, root?: string) => {
    const dir = await mkdtemp(join(tmpdir(), `macaw-${name}-`))
    dirs.push(dir)
    const proc = await spawnServer(dir, { MACAW_STORE: store, ...(root === undefined ? {} : { MACAW_ROOT: root }) })
    processes.push(proc)
    const kms = new KMSClient({ endpoint: proc.url, region: REGION, credentials: ROOT, maxAttempts: 1 })
    clients.push(kms)
    return { dir, url: proc.url, kms }
  }
  const cut = await node('relayed', viaRelay.toString())
  const direct = await node('direct', db.url, `file:${join(cut.dir, 'root.key')}`)
  return { relay, cut, direct }
}

describe('a PostgreSQL outage', () => {
  it('fails requests fast with DependencyTimeoutException, bounds the cache, and recovers without losing keys', NEEDS_POSTGRES, async (t) => {
    const { relay, cut, direct } = await setUp(t)
    const cached = await hmacKey(cut.kms)
    const spare = await hmacKey(cut.kms)
    const mac = (KeyId: string) => cut.kms.send(new GenerateMacCommand({ KeyId, Message: MESSAGE, MacAlgorithm: 'HMAC_SHA_256' }))
    await mac(cached.keyId)

    const outcomes: Outcome[] = []
    let stop = false
    const load = async (op: Outcome['op']): Promise<void> => {
      while (!stop) {
        const started = performance.now()
        try {
          if (op === 'GenerateMac') {
            await mac(cached.keyId)
            outcomes.push({ op, started, ended: performance.now() })
          } else {
            const out = await cut.kms.send(new CreateKeyCommand({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' }))
            outcomes.push({ op, started, ended: performance.now(), ...(out.KeyMetadata?.KeyId ? { keyId: out.KeyMetadata.KeyId } : {}) })
          }
        } catch (err) {
          const e = err as Error & { $metadata?: { httpStatusCode?: number } }
          outcomes.push({ op, started, ended: performance.now(), error: e.name, ...(e.$metadata?.httpStatusCode === undefined ? {} : { status: e.$metadata.httpStatusCode }) })
          // Pace failing loops a little, as a client's backoff would.
          await sleep(20)
        }
      }
    }
    const loops = [load('GenerateMac'), load('GenerateMac'), load('CreateKey'), load('CreateKey')]
    try {
      await sleep(500)
      const cutAt = performance.now()
      relay.setDown(true)
      // The key is disabled by the node that still reaches the database; the cut-off node gets
      // no notice of it, so only its cache TTL stands between the change and a stale answer.
      await direct.kms.send(new DisableKeyCommand({ KeyId: cached.keyId }))
      const disabledAt = performance.now()
      const notReadyAfter = await waitFor('/readyz 503 during the outage', async () => (await readyz(cut.url)) === 503, { timeoutMs: 5000, everyMs: 50 })
      t.diagnostic(`/readyz answered 503 ${notReadyAfter.toFixed(0)} ms into the outage`)
      await sleep(Math.max(0, cutAt + 3000 - performance.now()))
      // The database is back.
      const restoredAt = performance.now()
      relay.setDown(false)
      const readyAfter = await waitFor('/readyz 200 after the outage', async () => (await readyz(cut.url)) === 200, { timeoutMs: 8000, everyMs: 50 })
      t.diagnostic(`/readyz answered 200 ${readyAfter.toFixed(0)} ms after the database came back`)
      const servingAfter = await waitFor(
        'requests to succeed again',
        async () => {
          try {
            await mac(spare.keyId)
            await cut.kms.send(new CreateKeyCommand({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' }))
            return true
          } catch {
            return false
          }
        },
        { timeoutMs: 5000, everyMs: 50 },
      )
      t.diagnostic(`requests succeeded again ${(performance.now() - restoredAt).toFixed(0)} ms after the database came back (${servingAfter.toFixed(0)} ms after /readyz)`)
      await sleep(300)
      stop = true
      await Promise.all(loops)

      const during = outcomes.filter((o) => o.ended > cutAt && o.started < restoredAt)
      const failures = outcomes.filter((o) => o.error !== undefined)
      const kinds = new Map<string, number>()
      for (const o of failures) kinds.set(`${o.op} ${o.error ?? ''} ${o.status ?? ''}`, (kinds.get(`${o.op} ${o.error ?? ''} ${o.status ?? ''}`) ?? 0) + 1)
      const slowest = Math.max(0, ...failures.map((o) => o.ended - o.started))
      t.diagnostic(`${outcomes.length} requests, ${during.length} during the outage; failures: ${JSON.stringify(Object.fromEntries(kinds))}; slowest failure ${slowest.toFixed(0)} ms`)
      assert.ok(during.some((o) => o.op === 'CreateKey' && o.error === 'DependencyTimeoutException'), 'a CreateKey failed during the outage')
      for (const o of failures) {
        // The disabled key answers DisabledException once the node can read it again (also for a
        // request that started just before the database came back and read it just after).
        if (o.op === 'GenerateMac' && o.error === 'DisabledException' && o.ended > restoredAt) continue
        assert.equal(o.error, 'DependencyTimeoutException', `${o.op} failed with ${o.error ?? ''}`)
        assert.equal(o.status, 500)
        assert.ok(o.ended - o.started < FAST_MS, `${o.op} took ${(o.ended - o.started).toFixed(0)} ms to fail`)
      }
      const lastServed = Math.max(...outcomes.filter((o) => o.op === 'GenerateMac' && o.error === undefined && o.started < restoredAt).map((o) => o.ended))
      t.diagnostic(`the cut-off node last served the disabled key ${(lastServed - disabledAt).toFixed(0)} ms after DisableKey`)
      const stale = outcomes.filter((o) => o.op === 'GenerateMac' && o.error === undefined && o.ended > disabledAt + STALE_BOUND_MS)
      assert.deepEqual(stale, [], `GenerateMac served from the disabled key more than ${STALE_BOUND_MS} ms after DisableKey`)
      await rejectsWith(mac(cached.keyId), 'DisabledException')

      // Every key whose CreateKey was acknowledged exists, seen through either node.
      const acknowledged = outcomes.flatMap((o) => (o.keyId === undefined ? [] : [o.keyId]))
      assert.ok(acknowledged.length > 0)
      for (const [i, keyId] of acknowledged.entries()) {
        const kms = i % 2 === 0 ? cut.kms : direct.kms
        assert.equal((await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata?.KeyId, keyId)
      }
    } finally {
      stop = true
      await Promise.all(loops)
    }
  })
})
