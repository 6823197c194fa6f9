// Multi-Region keys (reference §6.15) through two SDK clients in two Regions: same key id and
// material, own policy, tags, description and state; primary changes; deletion waits for replicas.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  CreateKeyCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  GenerateMacCommand,
  ReplicateKeyCommand,
  ScheduleKeyDeletionCommand,
  TagResourceCommand,
  UpdatePrimaryRegionCommand,
  VerifyMacCommand,
} from '@aws-sdk/client-kms'
import { REGION, startKms } from '../helpers/server.js'
import { hmacKey, MESSAGE, rejectsWith } from '../helpers/keys.js'

const OTHER_REGION = 'eu-west-1'

describe('multi-Region keys', () => {
  it('replicates a key: MACs made in one Region verify in the other', async (t) => {
    const { kms, client } = await startKms(t)
    const eu = client(OTHER_REGION)
    const created = await kms.send(new CreateKeyCommand({ KeySpec: 'HMAC_512', KeyUsage: 'GENERATE_VERIFY_MAC', MultiRegion: true, Description: 'primary' }))
    const keyId = created.KeyMetadata?.KeyId ?? ''
    assert.match(keyId, /^mrk-[0-9a-f]{32}$/)
    await kms.send(new TagResourceCommand({ KeyId: keyId, Tags: [{ TagKey: 'side', TagValue: 'primary' }] }))

    const replicated = await kms.send(new ReplicateKeyCommand({ KeyId: keyId, ReplicaRegion: OTHER_REGION, Description: 'replica', Tags: [{ TagKey: 'side', TagValue: 'replica' }] }))
    const meta = replicated.ReplicaKeyMetadata
    assert.equal(meta?.KeyId, keyId)
    assert.equal(meta?.Arn, created.KeyMetadata?.Arn?.replace(`:${REGION}:`, `:${OTHER_REGION}:`))
    assert.equal(meta?.KeyState, 'Creating')
    assert.equal(meta?.Description, 'replica')
    assert.equal(meta?.MultiRegionConfiguration?.MultiRegionKeyType, 'REPLICA')
    assert.equal(meta?.MultiRegionConfiguration?.PrimaryKey?.Region, REGION)
    assert.deepEqual(replicated.ReplicaTags, [{ TagKey: 'side', TagValue: 'replica' }])
    assert.match(replicated.ReplicaPolicy ?? '', /key-default-1/)

    const mac = await kms.send(new GenerateMacCommand({ KeyId: keyId, Message: MESSAGE, MacAlgorithm: 'HMAC_SHA_512' }))
    const verified = await eu.send(new VerifyMacCommand({ KeyId: keyId, Message: MESSAGE, MacAlgorithm: 'HMAC_SHA_512', Mac: mac.Mac }))
    assert.equal(verified.MacValid, true)
    assert.equal(verified.KeyId, meta?.Arn)
    const euMac = await eu.send(new GenerateMacCommand({ KeyId: keyId, Message: MESSAGE, MacAlgorithm: 'HMAC_SHA_512' }))
    assert.deepEqual(euMac.Mac, mac.Mac)

    const primaryView = (await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata?.MultiRegionConfiguration
    assert.equal(primaryView?.MultiRegionKeyType, 'PRIMARY')
    assert.deepEqual(primaryView?.ReplicaKeys, [{ Arn: meta?.Arn, Region: OTHER_REGION }])
    await rejectsWith(eu.send(new ReplicateKeyCommand({ KeyId: keyId, ReplicaRegion: 'us-west-2' })), 'UnsupportedOperationException', `${meta?.Arn ?? ''} is not a multi-region primary key.`)
    // State is per Region.
    await eu.send(new DisableKeyCommand({ KeyId: keyId }))
    await kms.send(new GenerateMacCommand({ KeyId: keyId, Message: MESSAGE, MacAlgorithm: 'HMAC_SHA_512' }))
    await rejectsWith(eu.send(new GenerateMacCommand({ KeyId: keyId, Message: MESSAGE, MacAlgorithm: 'HMAC_SHA_512' })), 'DisabledException')

    await rejectsWith(kms.send(new ReplicateKeyCommand({ KeyId: keyId, ReplicaRegion: OTHER_REGION })), 'AlreadyExistsException')
    const single = await hmacKey(kms)
    await rejectsWith(kms.send(new ReplicateKeyCommand({ KeyId: single.keyId, ReplicaRegion: OTHER_REGION })), 'UnsupportedOperationException')
  })

  it('moves the primary Region, and deletes a primary only after its replicas', async (t) => {
    const { kms, client } = await startKms(t)
    const eu = client(OTHER_REGION)
    const keyId = (await kms.send(new CreateKeyCommand({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC', MultiRegion: true }))).KeyMetadata?.KeyId ?? ''
    await kms.send(new ReplicateKeyCommand({ KeyId: keyId, ReplicaRegion: OTHER_REGION }))
    await rejectsWith(kms.send(new UpdatePrimaryRegionCommand({ KeyId: keyId, PrimaryRegion: 'ap-south-1' })), 'NotFoundException')
    await kms.send(new UpdatePrimaryRegionCommand({ KeyId: keyId, PrimaryRegion: OTHER_REGION }))
    assert.equal((await eu.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata?.MultiRegionConfiguration?.MultiRegionKeyType, 'PRIMARY')
    assert.equal((await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata?.MultiRegionConfiguration?.MultiRegionKeyType, 'REPLICA')

    const scheduled = await eu.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 }))
    assert.equal(scheduled.KeyState, 'PendingReplicaDeletion')
    const replicaScheduled = await kms.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 }))
    assert.equal(replicaScheduled.KeyState, 'PendingDeletion')
  })

  it('starts a replica of an imported-material key in PendingImport', async (t) => {
    const { kms, client } = await startKms(t)
    const keyId = (await kms.send(new CreateKeyCommand({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC', MultiRegion: true, Origin: 'EXTERNAL' }))).KeyMetadata?.KeyId ?? ''
    await rejectsWith(kms.send(new ReplicateKeyCommand({ KeyId: keyId, ReplicaRegion: OTHER_REGION })), 'KMSInvalidStateException')
    assert.ok(client(OTHER_REGION))
  })
})
