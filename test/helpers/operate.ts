// What the tests of the default deployment share (operate.test.ts, stop.test.ts).
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import type { KMSClient } from '@aws-sdk/client-kms'
import { kmsClient, ROOT } from './server.js'
import { removeDataDir } from './process.js'

export const WORKERS = '2'

export async function dataDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'macaw-operate-'))
  t.after(() => removeDataDir(dir))
  return dir
}

/** A client that opens a new connection for every request, so that the workers take turns. */
export function client(
  url: string,
  credentials: { accessKeyId: string; secretAccessKey: string } = ROOT,
): KMSClient {
  return kmsClient(url, { credentials, newConnections: true })
}

