// Nothing acknowledged is lost: keys, states, aliases and tags survive `kill -9` and a restart,
// MACs are identical afterwards, and no key material or secret is in clear in the data dir.
import assert from 'node:assert/strict'
import { mkdtemp, readdir, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import {
  CreateAliasCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  GenerateMacCommand,
  KMSClient,
  ListResourceTagsCommand,
  TagResourceCommand,
} from '@aws-sdk/client-kms'
import { open as openEnvelope } from '../../src/crypto/envelope.js'
import { openSqliteStore } from '../../src/store/sqlite/index.js'
import { openRootOfTrust } from '../../src/trust/index.js'
import { hmacKey, MESSAGE } from '../helpers/keys.js'
import { spawnServer, removeDataDir } from '../helpers/process.js'
import { ROOT } from '../helpers/server.js'

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) out.push(...(await filesUnder(path)))
    else out.push(path)
  }
  return out
}

describe('durability', () => {
  it('keeps every acknowledged change across kill -9, with identical MACs', async (t) => {
    const dataDir = await mkdtemp(join(tmpdir(), 'macaw-restart-'))
    let server = await spawnServer(dataDir)
    // The server stops before its data directory goes (hooks run in the order they are added).
    t.after(async () => {
      await server.stop()
      await removeDataDir(dataDir)
    })
    let kms = new KMSClient({ endpoint: server.url, region: 'us-east-1', credentials: ROOT, maxAttempts: 1 })

    const specs = ['HMAC_224', 'HMAC_256', 'HMAC_384', 'HMAC_512'] as const
    const algs = ['HMAC_SHA_224', 'HMAC_SHA_256', 'HMAC_SHA_384', 'HMAC_SHA_512'] as const
    const keys = []
    for (const spec of specs) keys.push(await hmacKey(kms, spec))
    const macs: string[] = []
    for (const [i, k] of keys.entries()) {
      const out = await kms.send(new GenerateMacCommand({ KeyId: k.keyId, Message: MESSAGE, MacAlgorithm: algs[i] }))
      macs.push(Buffer.from(out.Mac ?? []).toString('base64'))
    }
    await kms.send(new CreateAliasCommand({ AliasName: 'alias/kept', TargetKeyId: keys[1]?.keyId }))
    await kms.send(new TagResourceCommand({ KeyId: keys[2]?.keyId, Tags: [{ TagKey: 'kept', TagValue: 'yes' }] }))
    await kms.send(new DisableKeyCommand({ KeyId: keys[3]?.keyId }))
    kms.destroy()

    await server.kill9()
    server = await spawnServer(dataDir)
    kms = new KMSClient({ endpoint: server.url, region: 'us-east-1', credentials: ROOT, maxAttempts: 1 })
    t.after(() => kms.destroy())

    for (const [i, k] of keys.entries()) {
      if (i === 3) continue
      const out = await kms.send(new GenerateMacCommand({ KeyId: k.keyId, Message: MESSAGE, MacAlgorithm: algs[i] }))
      assert.equal(Buffer.from(out.Mac ?? []).toString('base64'), macs[i])
    }
    const viaAlias = await kms.send(new GenerateMacCommand({ KeyId: 'alias/kept', Message: MESSAGE, MacAlgorithm: 'HMAC_SHA_256' }))
    assert.equal(Buffer.from(viaAlias.Mac ?? []).toString('base64'), macs[1])
    assert.deepEqual((await kms.send(new ListResourceTagsCommand({ KeyId: keys[2]?.keyId }))).Tags, [{ TagKey: 'kept', TagValue: 'yes' }])
    assert.equal((await kms.send(new DescribeKeyCommand({ KeyId: keys[3]?.keyId }))).KeyMetadata?.KeyState, 'Disabled')
    await server.stop()

    // No key material and no secret access key in clear anywhere in the data dir.
    const root = await openRootOfTrust(`file:${join(dataDir, 'root.key')}`, { createIfMissing: false })
    const store = openSqliteStore({ path: join(dataDir, 'macaw.db'), pollIntervalMs: 0 })
    const needles: Buffer[] = [Buffer.from(ROOT.secretAccessKey)]
    for (const k of keys) {
      const record = await store.getKey('111122223333', 'us-east-1', k.keyId)
      assert.ok(record?.material)
      needles.push(await openEnvelope(root, record.material, Buffer.from(`macaw:key-material:v1:${k.arn}`)))
    }
    await store.close()
    await root.close()
    for (const file of await filesUnder(dataDir)) {
      if (file.endsWith('root.key')) continue
      const bytes = await readFile(file)
      for (const needle of needles) {
        assert.equal(bytes.indexOf(needle), -1, `${file} contains a secret in clear`)
        assert.equal(bytes.indexOf(Buffer.from(needle.toString('base64'))), -1, `${file} contains a secret in base64`)
        assert.equal(bytes.indexOf(Buffer.from(needle.toString('hex'))), -1, `${file} contains a secret in hex`)
      }
    }
  })
})
