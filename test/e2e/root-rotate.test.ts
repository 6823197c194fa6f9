// Root of trust rotation: `macaw root rotate --to` re-wraps every secret under a new root while the
// server keeps answering (servers find roots by id among their configured ones: --extra-roots);
// a rotation killed halfway loses nothing and finishes when run again.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { GenerateMacCommand, type KMSClient } from '@aws-sdk/client-kms'
import { envelopeRootId, keyMaterialContext, seal } from '../../src/crypto/envelope.js'
import { generateMaterial } from '../../src/crypto/hmac.js'
import { keyArn } from '../../src/keys/arn.js'
import { defaultKeyPolicy } from '../../src/keys/metadata.js'
import { openRootOfTrust } from '../../src/trust/index.js'
import type { Store } from '../../src/store/store.js'
import { ACCOUNT, REGION, startKms, storeEnvFor } from '../helpers/server.js'
import { hmacKey, MESSAGE } from '../helpers/keys.js'
import { createUser, credentialsOf, macaw, MAIN } from '../helpers/process.js'
import { waitFor } from '../helpers/wait.js'

async function macs(kms: KMSClient, keyIds: readonly string[]): Promise<string[]> {
  return Promise.all(
    keyIds.map(async (KeyId) => Buffer.from((await kms.send(new GenerateMacCommand({ KeyId, Message: MESSAGE, MacAlgorithm: 'HMAC_SHA_256' }))).Mac ?? []).toString('hex')),
  )
}

async function rootIds(store: Store): Promise<Set<string>> {
  const ids = new Set<string>()
  let after: string | undefined
  do {
    const page = await store.scanKeys(after, 500)
    for (const k of page.items) if (k.material) ids.add(envelopeRootId(k.material))
    after = page.next
  } while (after !== undefined)
  for (const a of await store.listAllAccessKeys()) ids.add(envelopeRootId(a.secret))
  return ids
}


describe('root of trust rotation', { concurrency: true }, () => {
  it('re-wraps everything while the server serves, then runs on the new root alone', async (t) => {
    // The procedure: make the new root, add it to every server's roots, rotate, then swap them.
    const dataDir = await mkdtemp(join(tmpdir(), 'macaw-rotate-'))
    const newRoot = `file:${join(dataDir, 'new-root.key')}`
    await macaw(dataDir, ['root', 'init', '--root', newRoot])
    const first = await startKms(t, { dataDir, keepDataDir: true, settings: { extraRoots: newRoot } })
    const lacking = await startKms(t, { dataDir, keepDataDir: true })
    const keys = await Promise.all(Array.from({ length: 20 }, () => hmacKey(first.kms)))
    const ids = keys.map((k) => k.keyId)
    const user = await createUser(dataDir, ACCOUNT, 'rotator', { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kms:GenerateMac', Resource: '*' }] })
    const before = await macs(first.kms, ids)
    const oldId = first.server.kms.root.id

    // Keep the server busy during the rotation: every call must succeed.
    let stop = false
    let calls = 0
    const load = (async () => {
      while (!stop) {
        await macs(first.kms, ids.slice(calls % 20, (calls % 20) + 1))
        calls++
      }
    })()
    const out = await macaw(dataDir, ['root', 'rotate', '--to', newRoot])
    stop = true
    await load
    assert.match(out, /root of trust rotated to file:.*new-root\.key/)
    assert.ok(calls > 0)

    const next = await openRootOfTrust(newRoot, { createIfMissing: false })
    t.after(() => next.close())
    assert.deepEqual([...(await rootIds(first.server.kms.store))], [next.id])
    assert.notEqual(next.id, oldId)
    // The server follows the new root for what it seals next (within 5 s), and still serves.
    assert.deepEqual(await macs(first.kms, ids), before)
    await waitFor('the server seals with the new root', () => first.server.kms.root.id === next.id, { timeoutMs: 15_000, everyMs: 100 })
    const sealed = await hmacKey(first.kms)
    assert.equal(envelopeRootId((await first.server.kms.store.getKey(ACCOUNT, REGION, sealed.keyId))?.material ?? Buffer.alloc(0)), next.id)
    await first.server.close()
    // A server not given the new root does not look for it: not ready, and it says which root.
    // It may first be not ready because a sampled secret no longer opens, before it reads which
    // root the store names current (it looks every few seconds): wait for the words that name it.
    const names = new RegExp(`current root ${next.id} is not configured here`)
    let readyz = { status: 0, text: '' }
    await waitFor(
      'the server without the new root to say which root it lacks',
      async () => {
        const answer = await fetch(`${lacking.server.url}/readyz`)
        readyz = { status: answer.status, text: await answer.text() }
        return names.test(readyz.text)
      },
      { timeoutMs: 15_000, everyMs: 100 },
    )
    assert.equal(readyz.status, 503)
    assert.match(readyz.text, names)
    assert.equal(lacking.server.kms.root.id, oldId)
    await lacking.server.close()

    // The old root can go: a server on the new root alone opens everything.
    await rm(join(dataDir, 'root.key'))
    const second = await startKms(t, { dataDir, settings: { root: newRoot } })
    assert.deepEqual(await macs(second.kms, [...ids, sealed.keyId]).then((m) => m.slice(0, ids.length)), before)
    await macs(second.client(REGION, credentialsOf(user)), ids.slice(0, 1))
  })

  it('loses nothing when the rotation is killed halfway, and finishes when run again', async (t) => {
    const dataDir = await mkdtemp(join(tmpdir(), 'macaw-rotate-'))
    const newRoot = `file:${join(dataDir, 'next.key')}`
    await macaw(dataDir, ['root', 'init', '--root', newRoot])
    const first = await startKms(t, { dataDir, keepDataDir: true, settings: { extraRoots: newRoot } })
    const store = first.server.kms.store
    const root = first.server.kms.root
    const ids: string[] = []
    // Enough keys that the rotation takes a while: the kill below lands once it has begun.
    for (let i = 0; i < 600; i++) {
      const keyId = randomUUID()
      const arn = keyArn('aws', REGION, ACCOUNT, keyId)
      const material = generateMaterial('HMAC_256')
      await store.insertKey({
        accountId: ACCOUNT, region: REGION, keyId, keySpec: 'HMAC_256', keyUsage: 'GENERATE_VERIFY_MAC', origin: 'AWS_KMS', state: 'Enabled',
        description: '', creationDate: Date.now(), multiRegion: false, policy: defaultKeyPolicy('aws', ACCOUNT), tags: [],
        material: await seal(root, material, keyMaterialContext(arn)),
      })
      ids.push(keyId)
    }
    const sample = ids.filter((_, i) => i % 50 === 0)
    const before = await macs(first.kms, sample)
    // The server follows the rotation as soon as the command records the new root: note the old one.
    const oldId = root.id
    const child = spawn(process.execPath, [MAIN, 'root', 'rotate', '--to', newRoot, '--data-dir', dataDir], { env: { ...process.env, ...storeEnvFor(dataDir) }, stdio: 'ignore' })
    const exited = once(child, 'exit')
    // Killed once some envelopes, not all, are under the new root.
    const nextRoot = await openRootOfTrust(newRoot, { createIfMissing: false })
    const nextId = nextRoot.id
    await nextRoot.close()
    await waitFor('the rotation re-wraps a first envelope', async () => (await rootIds(store)).has(nextId), { timeoutMs: 15_000, everyMs: 20 })
    child.kill('SIGKILL')
    await exited
    const mixed = await rootIds(store)
    assert.deepEqual([...mixed].sort(), [oldId, nextId].sort(), 'killed halfway: envelopes under both roots')
    await first.server.close()

    // Restarted on the old configuration: every key still works (either root opens).
    const second = await startKms(t, { dataDir, keepDataDir: true, settings: { extraRoots: newRoot } })
    const all = await macs(second.kms, ids)
    assert.equal(all.length, ids.length)
    assert.deepEqual(await macs(second.kms, sample), before)
    await second.server.close()

    assert.match(await macaw(dataDir, ['root', 'rotate', '--to', newRoot]), /rotated/)
    const third = await startKms(t, { dataDir, settings: { root: newRoot } })
    assert.equal((await rootIds(third.server.kms.store)).size, 1)
    assert.deepEqual(await macs(third.kms, sample), before)
  })
})
