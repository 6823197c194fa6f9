import assert from 'node:assert/strict'
import { createCipheriv } from 'node:crypto'
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it, type TestContext } from 'node:test'
import { initRoot, openRootOfTrust } from '../../../src/trust/index.js'

async function dir(t: TestContext): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'macaw-root-'))
  t.after(() => rm(d, { recursive: true, force: true }))
  return d
}

describe('trust/file', () => {
  it('init creates a 0600 key file once, and never overwrites it', async (t) => {
    const path = join(await dir(t), 'root.key')
    const first = await initRoot(`file:${path}`)
    assert.equal(first.created, true)
    assert.equal((await stat(path)).mode & 0o777, 0o600)
    const before = await readFile(path, 'utf8')
    const second = await initRoot(`file://${path}`)
    assert.equal(second.created, false)
    assert.equal(second.root.id, first.root.id)
    assert.equal(await readFile(path, 'utf8'), before)
    assert.ok(!first.root.description.includes(before.trim()))
  })

  it('wraps and unwraps data keys, and refuses what it did not wrap', async (t) => {
    const path = join(await dir(t), 'root.key')
    const root = await openRootOfTrust(`file:${path}`, { createIfMissing: true })
    const dataKey = Buffer.alloc(32, 7)
    const wrapped = await root.wrapKey(dataKey)
    assert.equal(wrapped.length, 40)
    assert.deepEqual(await root.unwrapKey(wrapped), dataKey)
    wrapped[5] = (wrapped[5] ?? 0) ^ 1
    await assert.rejects(root.unwrapKey(wrapped))
  })

  it('uses RFC 3394 AES key wrap (§4.6 known answer for a 256-bit KEK)', () => {
    // RFC 3394 §4.6: 256 bits of key data with a 256-bit KEK.
    const kek = Buffer.from('000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F', 'hex')
    const data = Buffer.from('00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F', 'hex')
    const c = createCipheriv('id-aes256-wrap', kek, Buffer.from('A6A6A6A6A6A6A6A6', 'hex'))
    const out = Buffer.concat([c.update(data), c.final()]).toString('hex').toUpperCase()
    assert.equal(out, '28C9F404C4B810F4CBCCB35CFB87F8263F5786E2D80ED326CBC7F0E71A99F43BFB988B9B7A02DD21')
  })

  it('refuses a key file that others can read, a corrupt one, and a missing one', async (t) => {
    const d = await dir(t)
    const path = join(d, 'root.key')
    await initRoot(`file:${path}`)
    await chmod(path, 0o644)
    await assert.rejects(openRootOfTrust(`file:${path}`, { createIfMissing: false }), /chmod 600/)
    const bad = join(d, 'bad.key')
    await writeFile(bad, 'macaw-root-v1:dG9vIHNob3J0\n', { mode: 0o600 })
    await assert.rejects(openRootOfTrust(`file:${bad}`, { createIfMissing: false }), /not a macaw root key file/)
    await assert.rejects(openRootOfTrust(`file:${join(d, 'none.key')}`, { createIfMissing: false }), /does not exist/)
  })

  it('names the supported schemes for an unknown one', async () => {
    await assert.rejects(openRootOfTrust('vault:x', { createIfMissing: false }), /use one of file:/)
  })
})
