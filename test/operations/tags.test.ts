// TagResource, UntagResource and ListResourceTags.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ListResourceTagsCommand, ScheduleKeyDeletionCommand, TagResourceCommand, UntagResourceCommand } from '@aws-sdk/client-kms'
import { startKms } from '../helpers/server.js'
import { hmacKey, rejectsWith } from '../helpers/keys.js'

describe('tags', () => {
  it('replaces existing values, adds new keys, and removes only what is named', async (t) => {
    const { kms } = await startKms(t)
    const { keyId, arn } = await hmacKey(kms)
    await kms.send(new TagResourceCommand({ KeyId: keyId, Tags: [{ TagKey: 'team', TagValue: 'a' }, { TagKey: 'env', TagValue: 'dev' }] }))
    await kms.send(new TagResourceCommand({ KeyId: arn, Tags: [{ TagKey: 'team', TagValue: 'b' }, { TagKey: 'cost', TagValue: '' }] }))
    let out = await kms.send(new ListResourceTagsCommand({ KeyId: keyId }))
    assert.deepEqual(out.Tags, [{ TagKey: 'cost', TagValue: '' }, { TagKey: 'env', TagValue: 'dev' }, { TagKey: 'team', TagValue: 'b' }])
    assert.equal(out.Truncated, false)
    await kms.send(new UntagResourceCommand({ KeyId: keyId, TagKeys: ['env', 'absent'] }))
    out = await kms.send(new ListResourceTagsCommand({ KeyId: keyId }))
    assert.deepEqual(out.Tags?.map((t) => t.TagKey), ['cost', 'team'])
    await kms.send(new UntagResourceCommand({ KeyId: keyId, TagKeys: ['cost', 'team'] }))
    out = await kms.send(new ListResourceTagsCommand({ KeyId: keyId }))
    assert.deepEqual(out.Tags, [])
  })

  it('pages tags with Limit and Marker', async (t) => {
    const { kms } = await startKms(t)
    const { keyId } = await hmacKey(kms)
    const Tags = Array.from({ length: 5 }, (_, i) => ({ TagKey: `k${i}`, TagValue: `${i}` }))
    await kms.send(new TagResourceCommand({ KeyId: keyId, Tags }))
    const first = await kms.send(new ListResourceTagsCommand({ KeyId: keyId, Limit: 3 }))
    assert.equal(first.Truncated, true)
    const second = await kms.send(new ListResourceTagsCommand({ KeyId: keyId, Limit: 3, Marker: first.NextMarker }))
    assert.equal(second.Truncated, false)
    assert.deepEqual([...(first.Tags ?? []), ...(second.Tags ?? [])], Tags)
  })

  it('counts existing tags toward the limit of 50', async (t) => {
    const { kms } = await startKms(t)
    const { keyId } = await hmacKey(kms)
    await kms.send(new TagResourceCommand({ KeyId: keyId, Tags: Array.from({ length: 50 }, (_, i) => ({ TagKey: `k${i}`, TagValue: 'v' })) }))
    await rejectsWith(kms.send(new TagResourceCommand({ KeyId: keyId, Tags: [{ TagKey: 'one-more', TagValue: 'v' }] })), 'TagException', 'Too many tags')
    await kms.send(new TagResourceCommand({ KeyId: keyId, Tags: [{ TagKey: 'k0', TagValue: 'replaced' }] }))
  })

  it('refuses reserved and duplicate keys without changing anything', async (t) => {
    const { kms } = await startKms(t)
    const { keyId } = await hmacKey(kms)
    await rejectsWith(kms.send(new TagResourceCommand({ KeyId: keyId, Tags: [{ TagKey: 'ok', TagValue: '1' }, { TagKey: 'aws:x', TagValue: '1' }] })), 'TagException', 'Tags beginning with aws: are reserved')
    await rejectsWith(kms.send(new TagResourceCommand({ KeyId: keyId, Tags: [{ TagKey: 'd', TagValue: '1' }, { TagKey: 'd', TagValue: '2' }] })), 'TagException', 'Duplicate tag keys')
    assert.deepEqual((await kms.send(new ListResourceTagsCommand({ KeyId: keyId }))).Tags, [])
  })

  it('refuses to tag a key pending deletion, but lists its tags', async (t) => {
    const { kms } = await startKms(t)
    const { keyId, arn } = await hmacKey(kms)
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 }))
    await rejectsWith(kms.send(new TagResourceCommand({ KeyId: keyId, Tags: [{ TagKey: 'a', TagValue: 'b' }] })), 'KMSInvalidStateException', `${arn} is pending deletion.`)
    assert.deepEqual((await kms.send(new ListResourceTagsCommand({ KeyId: keyId }))).Tags, [])
  })
})
