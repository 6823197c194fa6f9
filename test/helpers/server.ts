// A real macaw server on an ephemeral port with a fresh data dir, and SDK clients signed as the
// account root user. Each test gets its own server; `t.after` stops it and removes the data dir.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import { KMSClient } from '@aws-sdk/client-kms'
import { buildConfig, type RawSettings } from '../../src/config.js'
import { createLogger } from '../../src/log.js'
import { startServer, type RunningServer } from '../../src/server.js'

export const ACCOUNT = '111122223333'
export const REGION = 'us-east-1'
export const ROOT = { accessKeyId: 'AKIAMACAWTESTROOT001', secretAccessKey: 'macaw-test-root-secret-0123456789abcdef' }

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

export async function startKms(t: TestContext, options: StartOptions = {}): Promise<TestKms> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'macaw-test-')))
  const config = buildConfig({
    host: '127.0.0.1',
    port: 0,
    dataDir,
    accountId: ACCOUNT,
    region: REGION,
    rootAccessKeyId: ROOT.accessKeyId,
    rootSecretAccessKey: ROOT.secretAccessKey,
    logLevel: 'silent',
    ...options.settings,
  })
  const server = await startServer(config, {
    logger: createLogger('silent'),
    ...(options.now ? { now: options.now } : {}),
  })
  const clients: KMSClient[] = []
  const client = (region: string, credentials = ROOT): KMSClient => {
    const c = new KMSClient({ endpoint: server.url, region, credentials, maxAttempts: 1 })
    clients.push(c)
    return c
  }
  const kms = client(REGION)
  t.after(async () => {
    for (const c of clients) c.destroy()
    await server.close()
    if (!options.keepDataDir) await rm(dataDir, { recursive: true, force: true })
  })
  return { server, kms, dataDir, client }
}
