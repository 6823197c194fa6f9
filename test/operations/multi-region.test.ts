// Multi-Region keys (reference §6.15) through two SDK clients in two Regions: same key id and
// material, own policy, tags, description and state; primary changes; deletion waits for replicas.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  CancelKeyDeletionCommand,
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

  it("starts a primary's own waiting period when its last replica is deleted, and it can still be cancelled", async (t) => {
    const DAY = 24 * 3600 * 1000
    let offset = 0
    const { kms, client } = await startKms(t, { now: () => Date.now() + offset, settings: { sweepIntervalSeconds: 1 } })
    const eu = client(OTHER_REGION)
    const keyId = (await kms.send(new CreateKeyCommand({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC', MultiRegion: true }))).KeyMetadata?.KeyId ?? ''
    await kms.send(new ReplicateKeyCommand({ KeyId: keyId, ReplicaRegion: OTHER_REGION }))
    // AWS (model documentation): no DeletionDate while the primary waits; its window is shown.
    const scheduled = await kms.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 10 }))
    assert.equal(scheduled.KeyState, 'PendingReplicaDeletion')
    assert.equal(scheduled.PendingWindowInDays, 10)
    assert.equal(scheduled.DeletionDate, undefined)
    const waiting = (await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata
    assert.equal(waiting?.PendingDeletionWindowInDays, 10)
    assert.equal(waiting?.DeletionDate, undefined)
    // Long past the primary's own 10 days, the replica is scheduled and deleted after its 7.
    offset = 20 * DAY
    await eu.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 }))
    offset = 27 * DAY + 1000
    let primary = (await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata
    for (let i = 0; i < 100 && primary?.KeyState !== 'PendingDeletion'; i++) {
      await new Promise((r) => setTimeout(r, 50))
      primary = (await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata
    }
    // Now the primary waits its full 10 days, from the replica's deletion.
    assert.equal(primary?.KeyState, 'PendingDeletion')
    assert.equal(primary?.PendingDeletionWindowInDays, undefined)
    const deletion = (primary?.DeletionDate?.getTime() ?? 0) - (Date.now() + offset)
    assert.ok(Math.abs(deletion - 10 * DAY) < 60_000, `deletion in ${deletion} ms`)
    await kms.send(new CancelKeyDeletionCommand({ KeyId: keyId }))
    assert.equal((await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata?.KeyState, 'Disabled')
  })

  it('starts a replica of an imported-material key in PendingImport', async (t) => {
    const { kms, client } = await startKms(t)
    const keyId = (await kms.send(new CreateKeyCommand({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC', MultiRegion: true, Origin: 'EXTERNAL' }))).KeyMetadata?.KeyId ?? ''
    await rejectsWith(kms.send(new ReplicateKeyCommand({ KeyId: keyId, ReplicaRegion: OTHER_REGION })), 'KMSInvalidStateException')
    assert.ok(client(OTHER_REGION))
  })
})
