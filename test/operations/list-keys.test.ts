import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ListKeysCommand } from '@aws-sdk/client-kms'
import { REGION, ACCOUNT, startKms } from '../helpers/server.js'
import { hmacKey, rejectsWith } from '../helpers/keys.js'

describe('ListKeys', () => {
  it('pages through every key exactly once with Limit and Marker', async (t) => {
    const { kms } = await startKms(t)
    const created = new Set<string>()
    for (let i = 0; i < 7; i++) created.add((await hmacKey(kms)).keyId)
    const seen: string[] = []
    let Marker: string | undefined
    let pages = 0
    do {
      const out = await kms.send(new ListKeysCommand({ Limit: 3, ...(Marker ? { Marker } : {}) }))
      pages++
      for (const k of out.Keys ?? []) {
        assert.equal(k.KeyArn, `arn:aws:kms:${REGION}:${ACCOUNT}:key/${k.KeyId}`)
        seen.push(k.KeyId ?? '')
      }
      assert.equal(out.Truncated, out.NextMarker !== undefined)
      Marker = out.NextMarker
    } while (Marker)
    assert.equal(pages, 3)
    assert.deepEqual(new Set(seen), created)
    assert.equal(seen.length, 7)
  })

  it('lists only the keys of the request region', async (t) => {
    const { kms, client } = await startKms(t)
    await hmacKey(kms)
    const out = await client('eu-west-1').send(new ListKeysCommand({}))
    assert.deepEqual(out.Keys, [])
    assert.equal(out.Truncated, false)
  })

  it('refuses a marker it did not produce', async (t) => {
    const { kms } = await startKms(t)
    await rejectsWith(kms.send(new ListKeysCommand({ Marker: 'made-up' })), 'InvalidMarkerException')
  })

  it('refuses Limit 0 and 1001', async (t) => {
    const { kms } = await startKms(t)
    await rejectsWith(kms.send(new ListKeysCommand({ Limit: 0 })), 'ValidationException', "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1")
    await rejectsWith(kms.send(new ListKeysCommand({ Limit: 1001 })), 'ValidationException', /Member must have value less than or equal to 1000$/)
  })
})
