// Measures how long a DisableKey made on one node takes to stop GenerateMac on another node that
// shares its PostgreSQL database, and prints p50/p99/max (docs/multinode.md quotes the figures).
// Also the shared two-node harness of test/e2e/multinode.test.ts.
//   npm run build && MACAW_TEST_POSTGRES_URL=postgres://... node --import tsx scripts/measure-propagation.ts [samples]
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { DisableKeyCommand, GenerateMacCommand, KMSClient } from '@aws-sdk/client-kms'
import { REGION, ROOT } from '../test/helpers/server.js'
import { spawnServer, type ServerProcess } from '../test/helpers/process.js'
import { createTestDatabase, type TestDatabase } from '../test/helpers/postgres.js'
import { hmacKey, MESSAGE } from '../test/helpers/keys.js'

type Credentials = { accessKeyId: string; secretAccessKey: string; sessionToken?: string }

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

export interface Node {
  readonly process: ServerProcess
  readonly dataDir: string
  readonly kms: KMSClient
  /** A client of this node signed with other credentials (destroyed with the cluster). */
  client(credentials: Credentials): KMSClient
}

export interface Cluster {
  readonly db: TestDatabase
  readonly a: Node
  readonly b: Node
  /** Environment for `macaw` admin commands and further nodes: the shared store and root key. */
  readonly env: Record<string, string>
  close(): Promise<void>
}

/**
 * Two `macaw serve` processes on one fresh database, each with its own data dir but both sealing
 * with node A's root key (MACAW_ROOT), as a real deployment shares one root of trust.
 */
export async function startCluster(extraEnv: Record<string, string> = {}): Promise<Cluster> {
  const db = await createTestDatabase()
  if (!db) throw new Error('MACAW_TEST_POSTGRES_URL is not set')
  const dirs: string[] = []
  const clients: KMSClient[] = []
  const processes: ServerProcess[] = []
  const close = async (): Promise<void> => {
    for (const c of clients) c.destroy()
    // A node that does not stop on SIGTERM within 5 s is killed: the database must be dropped.
    await Promise.allSettled(processes.map((p) => Promise.race([p.stop(), sleep(5000).then(() => p.kill9())])))
    await db.drop()
    await Promise.allSettled(dirs.map((d) => rm(d, { recursive: true, force: true })))
  }
  try {
    const dirA = await mkdtemp(join(tmpdir(), 'macaw-node-a-'))
    dirs.push(dirA)
    const dirB = await mkdtemp(join(tmpdir(), 'macaw-node-b-'))
    dirs.push(dirB)
    const env = { MACAW_STORE: db.url, MACAW_ROOT: `file:${join(dirA, 'root.key')}`, ...extraEnv }
    const node = async (dataDir: string): Promise<Node> => {
      const proc = await spawnServer(dataDir, env)
      processes.push(proc)
      const client = (credentials: Credentials): KMSClient => {
        // maxAttempts 1: a failure must show, not be retried away.
        const c = new KMSClient({ endpoint: proc.url, region: REGION, credentials, maxAttempts: 1 })
        clients.push(c)
        return c
      }
      return { process: proc, dataDir, kms: client(ROOT), client }
    }
    // One after the other: the first creates the root key file and the root credentials.
    const a = await node(dirA)
    const b = await node(dirB)
    return { db, a, b, env, close }
  } catch (err) {
    await close()
    throw err
  }
}

export interface Stats {
  readonly p50: number
  readonly p99: number
  readonly max: number
}

/** Nearest-rank percentiles of millisecond samples. */
export function stats(samples: readonly number[]): Stats {
  const sorted = [...samples].sort((x, y) => x - y)
  const rank = (p: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN
  return { p50: rank(50), p99: rank(99), max: sorted.at(-1) ?? Number.NaN }
}

export const formatStats = (s: Stats, n: number): string => `n=${n} p50=${s.p50.toFixed(1)} ms p99=${s.p99.toFixed(1)} ms max=${s.max.toFixed(1)} ms`

const errorName = (err: unknown): string => (err instanceof Error ? err.name : String(err))

/**
 * One propagation sample: `probe` runs in a tight loop (on the other node) until it has succeeded
 * once, then `change` runs; the result is the time from `change` resolving to the first probe
 * that fails with `expected`. Any other probe failure, or a probe still succeeding `timeoutMs`
 * after the change, throws.
 */
export async function measureOnce(options: {
  readonly probe: () => Promise<unknown>
  readonly change: () => Promise<unknown>
  readonly expected: string
  readonly timeoutMs?: number
}): Promise<number> {
  const timeoutMs = options.timeoutMs ?? 5000
  let changeStarted = false
  let changedAt: number | undefined
  let failedAt: number | undefined
  let succeeded = false
  let failure: Error | undefined
  let stop = false
  // Two probes in flight, so that one slow response does not hide the moment of the change.
  const hammer = async (): Promise<void> => {
    while (!stop) {
      try {
        await options.probe()
        succeeded = true
        if (changedAt !== undefined && performance.now() - changedAt > timeoutMs) {
          throw new Error(`still served ${timeoutMs} ms after the change`)
        }
      } catch (err) {
        stop = true
        if (errorName(err) !== options.expected || !changeStarted) {
          failure ??= err instanceof Error ? err : new Error(String(err))
          throw err
        }
        failedAt ??= performance.now()
      }
    }
  }
  const loops = [hammer(), hammer()]
  // Marked handled now: a probe failing before the change is rethrown below, not left to crash
  // the process as an unhandled rejection while this function waits.
  for (const loop of loops) loop.catch(() => {})
  try {
    while (!succeeded && failure === undefined) await sleep(1)
    if (failure !== undefined) throw failure
    changeStarted = true
    await options.change()
    changedAt = performance.now()
    await Promise.all(loops)
  } finally {
    stop = true
    await Promise.allSettled(loops)
  }
  if (failedAt === undefined) throw new Error('the change was never observed')
  // The other node may see the change before this client has read the writer's response.
  return Math.max(0, failedAt - changedAt)
}

/** DisableKey on node A while node B serves GenerateMac on the key: one sample per fresh key. */
export async function measureDisable(cluster: Cluster, samples: number): Promise<number[]> {
  const out: number[] = []
  for (let i = 0; i < samples; i++) {
    const key = await hmacKey(cluster.a.kms)
    out.push(
      await measureOnce({
        probe: () => cluster.b.kms.send(new GenerateMacCommand({ KeyId: key.keyId, Message: MESSAGE, MacAlgorithm: 'HMAC_SHA_256' })),
        change: () => cluster.a.kms.send(new DisableKeyCommand({ KeyId: key.keyId })),
        expected: 'DisabledException',
      }),
    )
  }
  return out
}

async function main(): Promise<void> {
  const samples = Number(process.argv[2] ?? 100)
  if (!Number.isInteger(samples) || samples < 1) throw new Error(`samples must be a positive integer, got ${process.argv[2] ?? ''}`)
  const cluster = await startCluster()
  try {
    const measured = await measureDisable(cluster, samples)
    process.stdout.write(`DisableKey on node A -> DisabledException on node B: ${formatStats(stats(measured), measured.length)}\n`)
  } finally {
    await cluster.close()
  }
}

// Run only as a script: the test suite imports the harness above.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
    process.exitCode = 1
  })
}
