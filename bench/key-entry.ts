// What one cached key really weighs, for the key cache's byte budget (KEY_ENTRY_BYTES in
// src/keys/cache.ts): an in-process server (audit off) with N HMAC keys, the key cache emptied,
// then one GenerateMac per key, so that every key is cached; the heap and external memory after a
// full GC, before and after, divided by N. It counts everything a used key adds, so GetKeyLastUsage's
// noted uses too: an upper bound for the cache entry. `npm run bench:key-entry [-- N]` (default 5,000).
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CreateKeyCommand, GenerateMacCommand, KMSClient } from '@aws-sdk/client-kms'
import { buildConfig } from '../src/config.js'
import { KEY_ENTRY_BYTES } from '../src/keys/cache.js'
import { createLogger } from '../src/log.js'
import { startServer } from '../src/server.js'

const gc = (globalThis as { gc?: () => void }).gc
if (gc === undefined) throw new Error('run with node --expose-gc')
const N = Number(process.argv[2] ?? 5000)
const credentials = { accessKeyId: 'AKIAKEYENTRYBENCH000', secretAccessKey: 'key-entry-bench-secret-0000000000000000' }
const dataDir = await mkdtemp(join(tmpdir(), 'macaw-key-entry-'))
const config = buildConfig({ host: '127.0.0.1', port: 0, dataDir, accountId: '111122223333', region: 'us-east-1', rootAccessKeyId: credentials.accessKeyId, rootSecretAccessKey: credentials.secretAccessKey, logLevel: 'silent', audit: 'off' })
const server = await startServer(config, { logger: createLogger('silent') })
const kms = new KMSClient({ endpoint: server.url, region: 'us-east-1', credentials, maxAttempts: 1 })
try {
  const ids: string[] = []
  for (let i = 0; i < N; i += 32) {
    const made = await Promise.all(Array.from({ length: Math.min(32, N - i) }, () => kms.send(new CreateKeyCommand({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' }))))
    ids.push(...made.map((k) => k.KeyMetadata?.KeyId ?? ''))
  }
  const mac = (KeyId: string) => kms.send(new GenerateMacCommand({ KeyId, Message: Buffer.from('x'), MacAlgorithm: 'HMAC_SHA_256' }))
  await mac(ids[0] ?? '')
  server.kms.services.keys.clear()
  const measure = () => {
    gc()
    gc()
    const m = process.memoryUsage()
    return { heap: m.heapUsed, external: m.external }
  }
  const before = measure()
  for (let i = 0; i < N; i += 32) await Promise.all(ids.slice(i, i + 32).map(mac))
  const after = measure()
  const heap = (after.heap - before.heap) / N
  const external = (after.external - before.external) / N
  console.log(`${N} keys cached (${server.kms.services.keys.size} in the cache): ${heap.toFixed(0)} B of heap + ${external.toFixed(0)} B external per key = ${(heap + external).toFixed(0)} B; the cache counts ${KEY_ENTRY_BYTES} B`)
} finally {
  kms.destroy()
  await server.close()
  await rm(dataDir, { recursive: true, force: true })
}
