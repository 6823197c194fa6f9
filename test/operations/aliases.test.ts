// CreateAlias, UpdateAlias, DeleteAlias and ListAliases.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  CreateAliasCommand,
  DeleteAliasCommand,
  GenerateMacCommand,
  ListAliasesCommand,
  ScheduleKeyDeletionCommand,
  UpdateAliasCommand,
} from '@aws-sdk/client-kms'
import { ACCOUNT, REGION, sharedKms, startKms } from '../helpers/server.js'
import { hmacKey, MESSAGE, rejectsWith } from '../helpers/keys.js'

describe('CreateAlias', () => {
  it('creates an alias listed with its ARN, target and dates', async (t) => {
    const { kms } = await startKms(t)
    const { keyId, arn } = await hmacKey(kms)
    await kms.send(new CreateAliasCommand({ AliasName: 'alias/my-hmac', TargetKeyId: arn }))
    const out = await kms.send(new ListAliasesCommand({}))
    assert.equal(out.Aliases?.length, 1)
    const a = out.Aliases?.[0]
    assert.equal(a?.AliasName, 'alias/my-hmac')
    assert.equal(a?.AliasArn, `arn:aws:kms:${REGION}:${ACCOUNT}:alias/my-hmac`)
    assert.equal(a?.TargetKeyId, keyId)
    assert.ok(a?.CreationDate instanceof Date)
    assert.ok(a?.LastUpdatedDate instanceof Date)
    assert.equal(out.Truncated, false)
  })

  const failures = [
    { when: 'the name lacks the alias/ prefix', name: 'my-hmac', error: 'ValidationException', message: 'Alias must start with the prefix "alias/". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html' },
    { when: 'the name contains a colon', name: 'alias/Service:Test', error: 'ValidationException', message: 'alias/Service:Test contains invalid characters for an alias' },
    { when: 'the name uses the reserved alias/aws/ prefix', name: 'alias/aws/mine', error: 'InvalidAliasNameException' },
    { when: 'the name has characters outside the model pattern', name: 'alias/a b', error: 'ValidationException', message: /at 'aliasName' failed to satisfy constraint: Member must satisfy regular expression pattern/ },
    { when: 'the name is over 256 characters', name: `alias/${'a'.repeat(251)}`, error: 'ValidationException', message: /Member must have length less than or equal to 256$/ },
  ]
  // One server for the rows of this table: none of them changes what another checks.
  const table = sharedKms()
  for (const c of failures) {
    it(`fails with ${c.error} when ${c.when}`, async () => {
      const { kms } = await table()
      const { keyId } = await hmacKey(kms)
      await rejectsWith(kms.send(new CreateAliasCommand({ AliasName: c.name, TargetKeyId: keyId })), c.error, c.message)
      assert.deepEqual((await kms.send(new ListAliasesCommand({}))).Aliases, [])
    })
  }

  it('refuses a duplicate name with AlreadyExistsException', async (t) => {
    const { kms } = await startKms(t)
    const k1 = await hmacKey(kms)
    const k2 = await hmacKey(kms)
    await kms.send(new CreateAliasCommand({ AliasName: 'alias/dup', TargetKeyId: k1.keyId }))
    await rejectsWith(kms.send(new CreateAliasCommand({ AliasName: 'alias/dup', TargetKeyId: k2.keyId })), 'AlreadyExistsException', `An alias with the name arn:aws:kms:${REGION}:${ACCOUNT}:alias/dup already exists`)
  })

  it('refuses a target pending deletion, and an unknown target', async (t) => {
    const { kms } = await startKms(t)
    const { keyId, arn } = await hmacKey(kms)
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 }))
    await rejectsWith(kms.send(new CreateAliasCommand({ AliasName: 'alias/x', TargetKeyId: keyId })), 'KMSInvalidStateException', `${arn} is pending deletion.`)
    await rejectsWith(kms.send(new CreateAliasCommand({ AliasName: 'alias/x', TargetKeyId: '134f2428-cec1-4b25-a1ae-9048164dba47' })), 'NotFoundException')
  })

  it('allows 50 aliases per key and refuses the 51st with LimitExceededException', async (t) => {
    const { kms } = await startKms(t)
    const { keyId } = await hmacKey(kms)
    for (let i = 0; i < 50; i++) await kms.send(new CreateAliasCommand({ AliasName: `alias/n${i}`, TargetKeyId: keyId }))
    await rejectsWith(
      kms.send(new CreateAliasCommand({ AliasName: 'alias/n50', TargetKeyId: keyId })),
      'LimitExceededException',
      'Aliases per key quota for this account in this region is 50, current usage is 50.',
    )
  })
})

describe('UpdateAlias', () => {
  it('points the alias at another key, and MACs follow it', async (t) => {
    const { kms } = await startKms(t)
    const k1 = await hmacKey(kms)
    const k2 = await hmacKey(kms, 'HMAC_512')
    await kms.send(new CreateAliasCommand({ AliasName: 'alias/moving', TargetKeyId: k1.keyId }))
    await kms.send(new UpdateAliasCommand({ AliasName: 'alias/moving', TargetKeyId: k2.arn }))
    const out = await kms.send(new GenerateMacCommand({ KeyId: 'alias/moving', Message: MESSAGE, MacAlgorithm: 'HMAC_SHA_512' }))
    assert.equal(out.KeyId, k2.arn)
    const listed = await kms.send(new ListAliasesCommand({ KeyId: k2.keyId }))
    assert.deepEqual(listed.Aliases?.map((a) => a.AliasName), ['alias/moving'])
    assert.deepEqual((await kms.send(new ListAliasesCommand({ KeyId: k1.keyId }))).Aliases, [])
  })

  it('allows moving away from a key pending deletion but not onto one', async (t) => {
    const { kms } = await startKms(t)
    const k1 = await hmacKey(kms)
    const k2 = await hmacKey(kms)
    await kms.send(new CreateAliasCommand({ AliasName: 'alias/a', TargetKeyId: k1.keyId }))
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: k1.keyId, PendingWindowInDays: 7 }))
    await kms.send(new UpdateAliasCommand({ AliasName: 'alias/a', TargetKeyId: k2.keyId }))
    await rejectsWith(kms.send(new UpdateAliasCommand({ AliasName: 'alias/a', TargetKeyId: k1.keyId })), 'KMSInvalidStateException', `${k1.arn} is pending deletion.`)
  })

  it('answers NotFoundException for an unknown alias', async (t) => {
    const { kms } = await startKms(t)
    const { keyId } = await hmacKey(kms)
    await rejectsWith(kms.send(new UpdateAliasCommand({ AliasName: 'alias/none', TargetKeyId: keyId })), 'NotFoundException', `Alias arn:aws:kms:${REGION}:${ACCOUNT}:alias/none is not found.`)
  })
})

describe('DeleteAlias', () => {
  it('deletes an alias, after which it no longer resolves', async (t) => {
    const { kms } = await startKms(t)
    const { keyId } = await hmacKey(kms)
    await kms.send(new CreateAliasCommand({ AliasName: 'alias/gone', TargetKeyId: keyId }))
    await kms.send(new DeleteAliasCommand({ AliasName: 'alias/gone' }))
    await rejectsWith(kms.send(new GenerateMacCommand({ KeyId: 'alias/gone', Message: MESSAGE, MacAlgorithm: 'HMAC_SHA_256' })), 'NotFoundException', `Alias arn:aws:kms:${REGION}:${ACCOUNT}:alias/gone is not found.`)
    await rejectsWith(kms.send(new DeleteAliasCommand({ AliasName: 'alias/gone' })), 'NotFoundException', `Alias arn:aws:kms:${REGION}:${ACCOUNT}:alias/gone is not found.`)
  })
})

describe('ListAliases', () => {
  it('pages in name order, and filters by key', async (t) => {
    const { kms } = await startKms(t)
    const k1 = await hmacKey(kms)
    const k2 = await hmacKey(kms)
    for (const n of ['c', 'a', 'e', 'b', 'd']) await kms.send(new CreateAliasCommand({ AliasName: `alias/${n}`, TargetKeyId: n < 'c' ? k1.keyId : k2.keyId }))
    const names: string[] = []
    let Marker: string | undefined
    do {
      const out = await kms.send(new ListAliasesCommand({ Limit: 2, ...(Marker ? { Marker } : {}) }))
      names.push(...(out.Aliases ?? []).map((a) => a.AliasName ?? ''))
      Marker = out.NextMarker
    } while (Marker)
    assert.deepEqual(names, ['alias/a', 'alias/b', 'alias/c', 'alias/d', 'alias/e'])
    const byKey = await kms.send(new ListAliasesCommand({ KeyId: k1.arn }))
    assert.deepEqual(byKey.Aliases?.map((a) => a.AliasName), ['alias/a', 'alias/b'])
  })

  it('answers NotFoundException for an unknown KeyId filter', async (t) => {
    const { kms } = await startKms(t)
    await rejectsWith(kms.send(new ListAliasesCommand({ KeyId: '134f2428-cec1-4b25-a1ae-9048164dba47' })), 'NotFoundException')
  })
})
