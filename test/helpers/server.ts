// A real macaw server on an ephemeral port with a fresh data dir, and SDK clients signed as the
// account root user. Each test gets its own server (`t.after` stops it and removes the data dir), or
// the rows of a table share one (`sharedKms`).
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Agent } from 'node:http'
import { after, type TestContext } from 'node:test'
import { KMSClient } from '@aws-sdk/client-kms'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import { buildConfig, type RawSettings } from '../../src/config.js'
import { createLogger } from '../../src/log.js'
import { startServer, type RunningServer } from '../../src/server.js'
import { createTestDatabase, type TestDatabase } from './postgres.js'

export const ACCOUNT = '111122223333'
export const REGION = 'us-east-1'
export const ROOT = { accessKeyId: 'AKIAMACAWTESTROOT001', secretAccessKey: 'macaw-test-root-secret-0123456789abcdef' }

/**
 * An SDK client for a server started as a process, signed as `credentials` (the root by default),
 * without retries. With `newConnections`, every request opens a connection of its own, so that
 * the workers of a node take turns; otherwise kept alive, as SDKs do.
 */
export function kmsClient(url: string, options: { credentials?: { accessKeyId: string; secretAccessKey: string }; newConnections?: boolean } = {}): KMSClient {
  return new KMSClient({
    endpoint: url,
    region: REGION,
    credentials: options.credentials ?? ROOT,
    maxAttempts: 1,
    ...(options.newConnections === true ? { requestHandler: new NodeHttpHandler({ httpAgent: new Agent({ keepAlive: false }) }) } : {}),
  })
}

export interface TestKms {
  readonly server: RunningServer
  readonly kms: KMSClient
  readonly dataDir: string
  /** A client for another region of the same endpoint. */
  readonly client: (region: string, credentials?: { accessKeyId: string; secretAccessKey: string }) => KMSClient
}

export interface StartOptions {
  readonly settings?: RawSettings
  readonly now?: () => number
  readonly dataDir?: string
  readonly keepDataDir?: boolean
}

/**
 * With MACAW_TEST_STORE=postgres, the database of each data dir: servers started again on the
 * same data dir (restart tests) find their data, and the last one to stop drops it.
 */
const databases = new Map<string, { readonly db: TestDatabase; users: number }>()

async function acquireDatabase(dataDir: string): Promise<TestDatabase> {
  const known = databases.get(dataDir)
  if (known) {
    known.users++
    return known.db
  }
  const db = await createTestDatabase()
  if (!db) throw new Error('MACAW_TEST_STORE=postgres needs MACAW_TEST_POSTGRES_URL')
  databases.set(dataDir, { db, users: 1 })
  return db
}

async function releaseDatabase(dataDir: string): Promise<void> {
  const known = databases.get(dataDir)
  if (!known || --known.users > 0) return
  databases.delete(dataDir)
  await known.db.drop()
}

/** Environment for a `macaw` child process, so that it uses the store startKms gave `dataDir`. */
export function storeEnvFor(dataDir: string): Record<string, string> {
  const known = databases.get(dataDir)
  return known ? { MACAW_STORE: known.db.url } : {}
}

/**
 * One server for several cases of a file that do not interfere (each makes its own keys, or none):
 * call at the top of a describe block; the returned function starts the server on first use, and
 * it stops when that block's cases are done. Starting an in-process server costs about 80 ms of
 * CPU, most of it the SQLite audit writer thread.
 */
export function sharedKms(options: StartOptions = {}): () => Promise<TestKms> {
  const cleanups: (() => Promise<void>)[] = []
  let started: Promise<TestKms> | undefined
  after(async () => {
    if (started === undefined) return
    await started.catch(() => undefined)
    for (const cleanup of cleanups.reverse()) await cleanup()
  })
  return () => (started ??= startWith((fn) => cleanups.push(fn), options))
}

export async function startKms(t: TestContext, options: StartOptions = {}): Promise<TestKms> {
  return startWith((fn) => t.after(fn), options)
}

async function startWith(onDone: (cleanup: () => Promise<void>) => void, options: StartOptions): Promise<TestKms> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'macaw-test-')))
  // MACAW_TEST_STORE=postgres runs the same tests on a fresh PostgreSQL database each. It is
  // dropped in the cleanup below, once the server has closed its connections (hooks run in order).
  const database = process.env['MACAW_TEST_STORE'] === 'postgres' ? await acquireDatabase(dataDir) : undefined
  let server: RunningServer
  try {
    const config = buildConfig({
      host: '127.0.0.1',
      port: 0,
      dataDir,
      accountId: ACCOUNT,
      region: REGION,
      rootAccessKeyId: ROOT.accessKeyId,
      rootSecretAccessKey: ROOT.secretAccessKey,
      logLevel: 'silent',
      ...(database ? { store: database.url } : {}),
      ...options.settings,
    })
    server = await startServer(config, {
      logger: createLogger(process.env['MACAW_TEST_LOG'] ?? 'silent'),
      ...(options.now ? { now: options.now } : {}),
    })
  } catch (err) {
    if (database) await releaseDatabase(dataDir)
    throw err
  }
  const clients: KMSClient[] = []
  const client = (region: string, credentials = ROOT): KMSClient => {
    const c = new KMSClient({ endpoint: server.url, region, credentials, maxAttempts: 1 })
    clients.push(c)
    return c
  }
  const kms = client(REGION)
  onDone(async () => {
    for (const c of clients) c.destroy()
    // A server that does not close fails its test rather than hanging the run.
    let timer: NodeJS.Timeout | undefined
    await Promise.race([
      server.close(),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('the server did not close within 20 s')), 20_000))),
    ]).finally(() => clearTimeout(timer))
    if (database) await releaseDatabase(dataDir)
    if (!options.keepDataDir) await rm(dataDir, { recursive: true, force: true })
  })
  return { server, kms, dataDir, client }
}
