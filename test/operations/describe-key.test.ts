import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { CreateAliasCommand, DescribeKeyCommand, DisableKeyCommand, ScheduleKeyDeletionCommand } from '@aws-sdk/client-kms'
import { ACCOUNT, REGION, sharedKms, startKms } from '../helpers/server.js'
import { hmacKey, rejectsWith } from '../helpers/keys.js'

describe('DescribeKey', () => {
  it('describes a key by all four identifier forms', async (t) => {
    const { kms } = await startKms(t)
    const { keyId, arn } = await hmacKey(kms)
    await kms.send(new CreateAliasCommand({ AliasName: 'alias/d', TargetKeyId: keyId }))
    for (const KeyId of [keyId, arn, 'alias/d', `arn:aws:kms:${REGION}:${ACCOUNT}:alias/d`]) {
      const m = (await kms.send(new DescribeKeyCommand({ KeyId }))).KeyMetadata
      assert.equal(m?.KeyId, keyId)
      assert.equal(m?.Arn, arn)
    }
  })

  it('works in the Disabled and PendingDeletion states', async (t) => {
    const { kms } = await startKms(t)
    const { keyId } = await hmacKey(kms)
    await kms.send(new DisableKeyCommand({ KeyId: keyId }))
    assert.equal((await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata?.KeyState, 'Disabled')
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 }))
    assert.equal((await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata?.KeyState, 'PendingDeletion')
  })

  it('keeps regions apart: a key of us-east-1 does not exist in eu-west-1', async (t) => {
    const { kms, client } = await startKms(t)
    const { keyId } = await hmacKey(kms)
    const eu = client('eu-west-1')
    await rejectsWith(eu.send(new DescribeKeyCommand({ KeyId: keyId })), 'NotFoundException', `Key 'arn:aws:kms:eu-west-1:${ACCOUNT}:key/${keyId}' does not exist`)
  })

  const failures = [
    { KeyId: 'fake-key-id', message: "Invalid keyId 'fake-key-id'" },
    { KeyId: '134f2428cec14b25a1ae9048164dba47', message: "Invalid keyId '134f2428cec14b25a1ae9048164dba47'" },
    { KeyId: 'mrk-fake-key-id', message: "Invalid keyId 'mrk-fake-key-id'" },
    { KeyId: 'arn:aws:kms:us-east-1:111122223333:thing/x', message: 'Invalid arn arn:aws:kms:us-east-1:111122223333:thing/x' },
  ]
  // One server for the rows of this table: none of them changes what another checks.
  const table = sharedKms()
  for (const c of failures) {
    it(`answers NotFoundException for '${c.KeyId}'`, async () => {
      const { kms } = await table()
      await rejectsWith(kms.send(new DescribeKeyCommand({ KeyId: c.KeyId })), 'NotFoundException', c.message)
    })
  }

  it('answers ValidationException for an empty KeyId', async (t) => {
    const { kms } = await startKms(t)
    await rejectsWith(kms.send(new DescribeKeyCommand({ KeyId: '' })), 'ValidationException', "1 validation error detected: Value '' at 'keyId' failed to satisfy constraint: Member must have length greater than or equal to 1")
  })
})
