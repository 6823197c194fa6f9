// The ring of configured roots: envelopes open with the configured root they name and nothing
// else; the store's current-root setting (an id) picks which configured root seals.
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it, type TestContext } from 'node:test'
import { open, seal } from '../../../src/crypto/envelope.js'
import { openSqliteStore } from '../../../src/store/sqlite/index.js'
import { initRoot } from '../../../src/trust/index.js'
import { CURRENT_ROOT, openConfiguredRoots } from '../../../src/trust/ring.js'

async function setup(t: TestContext) {
  const dir = await mkdtemp(join(tmpdir(), 'macaw-ring-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const uris = ['a', 'b', 'c'].map((n) => `file:${join(dir, `${n}.key`)}`)
  const ids: string[] = []
  for (const uri of uris) {
    const { root } = await initRoot(uri)
    ids.push(root.id)
    await root.close()
  }
  const store = openSqliteStore({ path: join(dir, 'macaw.db'), pollIntervalMs: 0 })
  t.after(() => store.close())
  return { dir, uris, ids, store }
}

const CONTEXT = Buffer.from('ring test')

describe('trust/ring', () => {
  it('opens envelopes with the configured root they name, and with no other', async (t) => {
    const { uris, store } = await setup(t)
    const [a = '', b = '', c = ''] = uris
    const onlyC = await openConfiguredRoots({ root: c, extraRoots: [] }, { createIfMissing: false })
    t.after(() => onlyC.close())
    const both = await openConfiguredRoots({ root: a, extraRoots: [b] }, { createIfMissing: false })
    t.after(() => both.close())
    await both.refresh(store)
    const underA = await seal(both, Buffer.from('secret'), CONTEXT)
    assert.deepEqual(await open(both, underA, CONTEXT), Buffer.from('secret'))
    await assert.rejects(open(onlyC, underA, CONTEXT), /sealed under root [0-9a-f]{16}, which is not among the configured roots/)
  })

  it('seals with the configured root the store names current, and reports one it lacks', async (t) => {
    const { uris, ids, store } = await setup(t)
    const [a = '', b = ''] = uris
    const ring = await openConfiguredRoots({ root: a, extraRoots: [b] }, { createIfMissing: false })
    t.after(() => ring.close())
    assert.equal(await ring.refresh(store), false)
    assert.equal(ring.id, ids[0])

    await store.putSetting(CURRENT_ROOT, ids[1] ?? '')
    assert.equal(await ring.refresh(store), true)
    assert.equal(ring.id, ids[1])
    assert.equal(ring.problem, undefined)

    // Not configured here: keep sealing with --root, and say which root is missing.
    await store.putSetting(CURRENT_ROOT, ids[2] ?? '')
    assert.equal(await ring.refresh(store), true)
    assert.equal(ring.id, ids[0])
    assert.equal(ring.problem, `root of trust: the store's current root ${ids[2] ?? ''} is not configured here`)

    // An older macaw stored a URI there: ignored, never opened.
    await store.putSetting(CURRENT_ROOT, uris[2] ?? '')
    await ring.refresh(store)
    assert.equal(ring.id, ids[0])
    assert.equal(ring.problem, undefined)
  })

  it('refuses the same root twice and an extra root that does not exist, and creates none', async (t) => {
    const { dir, uris } = await setup(t)
    const [a = ''] = uris
    await assert.rejects(openConfiguredRoots({ root: a, extraRoots: [`file://${a.slice('file:'.length)}`] }, { createIfMissing: false }), /are the same root/)
    const missing = `file:${join(dir, 'missing.key')}`
    await assert.rejects(openConfiguredRoots({ root: a, extraRoots: [missing] }, { createIfMissing: true }), /cannot open the extra root of trust .*missing\.key/)
    await assert.rejects(openConfiguredRoots({ root: a, extraRoots: [missing] }, { createIfMissing: false }), /does not exist/)
    assert.equal(existsSync(missing.slice('file:'.length)), false)
  })
})
