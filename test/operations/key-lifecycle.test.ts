// EnableKey, DisableKey, ScheduleKeyDeletion, CancelKeyDeletion and the sweeper, visiting every
// state of the lifecycle table that an AWS_KMS HMAC key can reach.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  CancelKeyDeletionCommand,
  CreateAliasCommand,
  CreateGrantCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  GenerateMacCommand,
  GetKeyPolicyCommand,
  ListAliasesCommand,
  ListKeysCommand,
  PutKeyPolicyCommand,
  RetireGrantCommand,
  ScheduleKeyDeletionCommand,
  UpdateKeyDescriptionCommand,
} from '@aws-sdk/client-kms'
import { startKms } from '../helpers/server.js'
import { hmacKey, MESSAGE, rejectsWith } from '../helpers/keys.js'

const DAY = 86_400_000

describe('EnableKey and DisableKey', () => {
  it('disable then enable round-trips, and both are idempotent', async (t) => {
    const { kms } = await startKms(t)
    const { keyId, arn } = await hmacKey(kms)
    for (const KeyId of [keyId, arn]) {
      await kms.send(new DisableKeyCommand({ KeyId }))
      await kms.send(new DisableKeyCommand({ KeyId }))
      let m = (await kms.send(new DescribeKeyCommand({ KeyId }))).KeyMetadata
      assert.equal(m?.KeyState, 'Disabled')
      assert.equal(m?.Enabled, false)
      await kms.send(new EnableKeyCommand({ KeyId }))
      await kms.send(new EnableKeyCommand({ KeyId }))
      m = (await kms.send(new DescribeKeyCommand({ KeyId }))).KeyMetadata
      assert.equal(m?.KeyState, 'Enabled')
      assert.equal(m?.Enabled, true)
    }
  })

  it('refuses an alias for EnableKey, which takes a key id or ARN only', async (t) => {
    const { kms } = await startKms(t)
    const { keyId } = await hmacKey(kms)
    await kms.send(new CreateAliasCommand({ AliasName: 'alias/a', TargetKeyId: keyId }))
    // AWS: InvalidArnException (test/fixtures/aws-texts.json), for an alias name or an alias ARN.
    await rejectsWith(kms.send(new EnableKeyCommand({ KeyId: 'alias/a' })), 'InvalidArnException', 'Key Aliases are not supported for this operation.')
    await rejectsWith(kms.send(new EnableKeyCommand({ KeyId: 'arn:aws:kms:us-east-1:111122223333:alias/a' })), 'InvalidArnException', 'Key Aliases are not supported for this operation.')
    // The same for every member that takes a key id or key ARN only.
    for (const command of [
      new CreateGrantCommand({ KeyId: 'alias/a', GranteePrincipal: 'arn:aws:iam::111122223333:root', Operations: ['GenerateMac'] }),
      new GetKeyPolicyCommand({ KeyId: 'alias/a', PolicyName: 'default' }),
      new PutKeyPolicyCommand({
        KeyId: 'alias/a',
        PolicyName: 'default',
        Policy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::111122223333:root' }, Action: 'kms:*', Resource: '*' }] }),
      }),
      new DisableKeyCommand({ KeyId: 'alias/a' }),
    ]) {
      await rejectsWith(kms.send(command as never), 'InvalidArnException', 'Key Aliases are not supported for this operation.')
    }
  })

  it('refuses to enable or disable a key pending deletion', async (t) => {
    const { kms } = await startKms(t)
    const { keyId, arn } = await hmacKey(kms)
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 }))
    await rejectsWith(kms.send(new EnableKeyCommand({ KeyId: keyId })), 'KMSInvalidStateException', `${arn} is pending deletion.`)
    await rejectsWith(kms.send(new DisableKeyCommand({ KeyId: keyId })), 'KMSInvalidStateException', `${arn} is pending deletion.`)
  })
})

describe('ScheduleKeyDeletion and CancelKeyDeletion', () => {
  it('schedules with the default 30-day window and returns the full response', async (t) => {
    const { kms } = await startKms(t)
    const { keyId, arn } = await hmacKey(kms)
    const before = Date.now()
    const out = await kms.send(new ScheduleKeyDeletionCommand({ KeyId: keyId }))
    assert.equal(out.KeyId, arn)
    assert.equal(out.KeyState, 'PendingDeletion')
    assert.equal(out.PendingWindowInDays, 30)
    const when = out.DeletionDate?.getTime() ?? 0
    assert.ok(when >= before + 30 * DAY - 1000 && when <= Date.now() + 30 * DAY + 1000)
    const m = (await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata
    assert.equal(m?.KeyState, 'PendingDeletion')
    assert.equal(m?.Enabled, false)
    assert.equal(m?.DeletionDate?.getTime(), when)
  })

  it('refuses a second schedule, and cancel leaves the key Disabled without DeletionDate', async (t) => {
    const { kms } = await startKms(t)
    const { keyId, arn } = await hmacKey(kms)
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: arn, PendingWindowInDays: 7 }))
    await rejectsWith(kms.send(new ScheduleKeyDeletionCommand({ KeyId: keyId })), 'KMSInvalidStateException', `${arn} is pending deletion.`)
    await rejectsWith(kms.send(new GenerateMacCommand({ KeyId: keyId, Message: MESSAGE, MacAlgorithm: 'HMAC_SHA_256' })), 'KMSInvalidStateException', `${arn} is pending deletion.`)
    await rejectsWith(kms.send(new UpdateKeyDescriptionCommand({ KeyId: keyId, Description: 'x' })), 'KMSInvalidStateException')
    const out = await kms.send(new CancelKeyDeletionCommand({ KeyId: keyId }))
    assert.equal(out.KeyId, arn)
    const m = (await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata
    assert.equal(m?.KeyState, 'Disabled')
    assert.equal(m?.DeletionDate, undefined)
    await rejectsWith(kms.send(new CancelKeyDeletionCommand({ KeyId: keyId })), 'KMSInvalidStateException', `${arn} is not pending deletion.`)
  })

  it("refuses windows outside 7..30 days with AWS's texts, and changes nothing", async (t) => {
    const { kms } = await startKms(t)
    const { keyId } = await hmacKey(kms)
    // Inside the model's range 1..365: AWS's own rule (test/fixtures/aws-texts.json).
    for (const days of [1, 6, 31, 365]) {
      await rejectsWith(kms.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: days })), 'ValidationException', 'PendingWindowInDays must be between 7 and 30')
    }
    // Outside it: the model's constraint text.
    await rejectsWith(
      kms.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 0 })),
      'ValidationException',
      "1 validation error detected: Value '0' at 'pendingWindowInDays' failed to satisfy constraint: Member must have value greater than or equal to 1",
    )
    await rejectsWith(
      kms.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 366 })),
      'ValidationException',
      "1 validation error detected: Value '366' at 'pendingWindowInDays' failed to satisfy constraint: Member must have value less than or equal to 365",
    )
    const m = (await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata
    assert.equal(m?.KeyState, 'Enabled')
  })

  it('deletes the key and its aliases when the window ends', async (t) => {
    let offset = 0
    const { kms } = await startKms(t, { now: () => Date.now() + offset, settings: { sweepIntervalSeconds: 1 } })
    const { keyId, arn } = await hmacKey(kms)
    const other = await hmacKey(kms)
    await kms.send(new CreateAliasCommand({ AliasName: 'alias/doomed', TargetKeyId: keyId }))
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 }))
    offset = 6 * DAY
    assert.equal((await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata?.KeyState, 'PendingDeletion')
    offset = 7 * DAY + 1000
    await rejectsWith(kms.send(new DescribeKeyCommand({ KeyId: keyId })), 'NotFoundException', `Key '${arn}' does not exist`)
    // The sweeper removes the row and the alias soon after.
    for (let i = 0; i < 100; i++) {
      const aliases = await kms.send(new ListAliasesCommand({}))
      if (!aliases.Aliases?.some((a) => a.AliasName === 'alias/doomed')) break
      await new Promise((r) => setTimeout(r, 50))
    }
    const aliases = await kms.send(new ListAliasesCommand({}))
    assert.deepEqual(aliases.Aliases?.map((a) => a.AliasName), [])
    const keys = await kms.send(new ListKeysCommand({}))
    assert.deepEqual(keys.Keys?.map((k) => k.KeyId), [other.keyId])
    await rejectsWith(kms.send(new GenerateMacCommand({ KeyId: 'alias/doomed', Message: MESSAGE, MacAlgorithm: 'HMAC_SHA_256' })), 'NotFoundException', /^Alias .* is not found\.$/)
  })
  it('treats a key past its window as gone for RetireGrant too, before the sweeper has run', async (t) => {
    let offset = 0
    // The sweeper runs only when woken: what answers must not depend on whether it ran.
    const { kms } = await startKms(t, { now: () => Date.now() + offset, settings: { sweepIntervalSeconds: 3600 } })
    const { keyId, arn } = await hmacKey(kms)
    const grant = await kms.send(new CreateGrantCommand({ KeyId: keyId, GranteePrincipal: 'arn:aws:iam::111122223333:root', Operations: ['GenerateMac'] }))
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 }))
    offset = 7 * DAY + 1000
    await rejectsWith(kms.send(new RetireGrantCommand({ KeyId: keyId, GrantId: grant.GrantId })), 'NotFoundException', `Key '${arn}' does not exist`)
  })
})

describe('UpdateKeyDescription', () => {
  it('replaces the description, including with an empty one', async (t) => {
    const { kms } = await startKms(t)
    const { keyId } = await hmacKey(kms, 'HMAC_256', { Description: 'old' })
    await kms.send(new UpdateKeyDescriptionCommand({ KeyId: keyId, Description: 'new' }))
    assert.equal((await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata?.Description, 'new')
    await kms.send(new UpdateKeyDescriptionCommand({ KeyId: keyId, Description: '' }))
    assert.equal((await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata?.Description, '')
  })
})
