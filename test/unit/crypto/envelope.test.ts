import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it, type TestContext } from 'node:test'
import { envelopeRootId, open, rewrap, seal } from '../../../src/crypto/envelope.js'
import { createFileRoot } from '../../../src/trust/file.js'

async function roots(t: TestContext) {
  const dir = await mkdtemp(join(tmpdir(), 'macaw-env-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  return [createFileRoot(join(dir, 'a.key')), createFileRoot(join(dir, 'b.key'))] as const
}

const secret = Buffer.from('0123456789abcdef0123456789abcdef')
const ctx = Buffer.from('macaw:key-material:v1:arn:aws:kms:us-east-1:111122223333:key/k')

describe('crypto/envelope', () => {
  it('round-trips and never contains the plaintext', async (t) => {
    const [a] = await roots(t)
    const blob = await seal(a, secret, ctx)
    assert.equal(blob.indexOf(secret), -1)
    assert.deepEqual(await open(a, blob, ctx), secret)
    assert.equal(envelopeRootId(blob), a.id)
  })

  it('fails for another context (a blob moved to another key)', async (t) => {
    const [a] = await roots(t)
    const blob = await seal(a, secret, ctx)
    await assert.rejects(open(a, blob, Buffer.from('macaw:key-material:v1:other')), { name: 'EnvelopeError' })
  })

  it('fails when any single byte is changed', async (t) => {
    const [a] = await roots(t)
    const blob = await seal(a, Buffer.from('tiny'), ctx)
    for (let i = 0; i < blob.length; i++) {
      const bad = Buffer.from(blob)
      bad[i] = (bad[i] ?? 0) ^ 0x01
      await assert.rejects(open(a, bad, ctx), `flipping byte ${i} was not detected`)
    }
  })

  it('fails when truncated, and under an unknown root', async (t) => {
    const [a, b] = await roots(t)
    const blob = await seal(a, secret, ctx)
    for (const n of [0, 3, 10, blob.length - 1]) await assert.rejects(open(a, blob.subarray(0, n), ctx), { name: 'EnvelopeError' })
    await assert.rejects(open(b, blob, ctx), /is not among the configured roots/)
  })

  it('rewraps to another root, which alone can then open it', async (t) => {
    const [a, b] = await roots(t)
    const blob = await seal(a, secret, ctx)
    const moved = await rewrap(blob, a, b, ctx)
    assert.equal(envelopeRootId(moved), b.id)
    assert.deepEqual(await open(b, moved, ctx), secret)
    await assert.rejects(open(a, moved, ctx))
    assert.deepEqual(await open(new Map([[a.id, a], [b.id, b]]), moved, ctx), secret)
  })
})
