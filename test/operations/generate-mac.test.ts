import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { describe, it } from 'node:test'
import {
  CreateAliasCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  GenerateMacCommand,
  ScheduleKeyDeletionCommand,
  type KMSClient,
} from '@aws-sdk/client-kms'
import { ACCOUNT, REGION, sharedKms, startKms } from '../helpers/server.js'
import { hmacKey, MESSAGE, rejectsWith } from '../helpers/keys.js'

type Prep = (kms: KMSClient, keyId: string) => Promise<unknown>
const disable: Prep = (kms, KeyId) => kms.send(new DisableKeyCommand({ KeyId }))
const scheduleDeletion: Prep = (kms, KeyId) => kms.send(new ScheduleKeyDeletionCommand({ KeyId, PendingWindowInDays: 7 }))

describe('GenerateMac', () => {
  for (const [spec, alg, length] of [
    ['HMAC_224', 'HMAC_SHA_224', 28],
    ['HMAC_256', 'HMAC_SHA_256', 32],
    ['HMAC_384', 'HMAC_SHA_384', 48],
    ['HMAC_512', 'HMAC_SHA_512', 64],
  ] as const) {
    it(`returns a deterministic ${length}-byte MAC and the key ARN for ${spec}`, async (t) => {
      const { kms } = await startKms(t)
      const { keyId, arn } = await hmacKey(kms, spec)
      const a = await kms.send(new GenerateMacCommand({ KeyId: keyId, Message: MESSAGE, MacAlgorithm: alg }))
      const b = await kms.send(new GenerateMacCommand({ KeyId: keyId, Message: MESSAGE, MacAlgorithm: alg }))
      assert.equal(a.KeyId, arn)
      assert.equal(a.MacAlgorithm, alg)
      assert.equal(a.Mac?.length, length)
      assert.deepEqual(a.Mac, b.Mac)
    })
  }

  it('gives the same MAC for the key id, key ARN, alias name and alias ARN', async (t) => {
    const { kms } = await startKms(t)
    const { keyId, arn } = await hmacKey(kms)
    await kms.send(new CreateAliasCommand({ AliasName: 'alias/forms', TargetKeyId: keyId }))
    const ids = [keyId, arn, 'alias/forms', `arn:aws:kms:${REGION}:${ACCOUNT}:alias/forms`]
    const macs = []
    for (const KeyId of ids) {
      const out = await kms.send(new GenerateMacCommand({ KeyId, Message: MESSAGE, MacAlgorithm: 'HMAC_SHA_256' }))
      assert.equal(out.KeyId, arn)
      macs.push(Buffer.from(out.Mac ?? []).toString('hex'))
    }
    assert.equal(new Set(macs).size, 1)
  })

  it('gives different MACs for different keys and messages', async (t) => {
    const { kms } = await startKms(t)
    const k1 = await hmacKey(kms)
    const k2 = await hmacKey(kms)
    const mac = async (KeyId: string, Message: Uint8Array) =>
      Buffer.from((await kms.send(new GenerateMacCommand({ KeyId, Message, MacAlgorithm: 'HMAC_SHA_256' }))).Mac ?? []).toString('hex')
    assert.notEqual(await mac(k1.keyId, MESSAGE), await mac(k2.keyId, MESSAGE))
    assert.notEqual(await mac(k1.keyId, MESSAGE), await mac(k1.keyId, Buffer.from('Hello World!')))
  })

  it('accepts a message of exactly 4096 bytes', async (t) => {
    const { kms } = await startKms(t)
    const { keyId } = await hmacKey(kms)
    const out = await kms.send(new GenerateMacCommand({ KeyId: keyId, Message: new Uint8Array(4096), MacAlgorithm: 'HMAC_SHA_256' }))
    assert.equal(out.Mac?.length, 32)
  })

  it('works again after the key is re-enabled', async (t) => {
    const { kms } = await startKms(t)
    const { keyId } = await hmacKey(kms)
    await disable(kms, keyId)
    await kms.send(new EnableKeyCommand({ KeyId: keyId }))
    const out = await kms.send(new GenerateMacCommand({ KeyId: keyId, Message: MESSAGE, MacAlgorithm: 'HMAC_SHA_256' }))
    assert.equal(out.Mac?.length, 32)
  })

  it('is not the HMAC of the message under an all-zero or empty key (material is random)', async (t) => {
    const { kms } = await startKms(t)
    const { keyId } = await hmacKey(kms)
    const out = await kms.send(new GenerateMacCommand({ KeyId: keyId, Message: MESSAGE, MacAlgorithm: 'HMAC_SHA_256' }))
    const mac = Buffer.from(out.Mac ?? [])
    assert.notDeepEqual(mac, createHmac('sha256', Buffer.alloc(32)).update(MESSAGE).digest())
    assert.notDeepEqual(mac, createHmac('sha256', Buffer.alloc(0)).update(MESSAGE).digest())
  })

  const failures: {
    when: string
    prep?: Prep
    input?: Record<string, unknown>
    spec?: 'HMAC_224' | 'HMAC_256'
    error: string
    message?: (arn: string) => string | RegExp
  }[] = [
    { when: 'the key is disabled', prep: disable, error: 'DisabledException', message: (arn) => `${arn} is disabled.` },
    { when: 'the key is pending deletion', prep: scheduleDeletion, error: 'KMSInvalidStateException', message: (arn) => `${arn} is pending deletion.` },
    { when: 'the algorithm does not fit the key spec', spec: 'HMAC_224', input: { MacAlgorithm: 'HMAC_SHA_256' }, error: 'InvalidKeyUsageException', message: () => 'Algorithm HMAC_SHA_256 is incompatible with key spec HMAC_224.' },
    { when: 'the algorithm is not in the enum', input: { MacAlgorithm: 'INVALID' }, error: 'ValidationException', message: () => /^1 validation error detected: Value 'INVALID' at 'macAlgorithm' failed to satisfy constraint: Member must satisfy enum value set: \[/ },
    { when: 'the message is over 4096 bytes', input: { Message: new Uint8Array(4097) }, error: 'ValidationException', message: () => "1 validation error detected: Value at 'message' failed to satisfy constraint: Member must have length less than or equal to 4096" },
    { when: 'the message is empty', input: { Message: new Uint8Array(0) }, error: 'ValidationException', message: () => "1 validation error detected: Value at 'message' failed to satisfy constraint: Member must have length greater than or equal to 1" },
    { when: 'there are more than 10 grant tokens', input: { GrantTokens: Array.from({ length: 11 }, () => 't') }, error: 'ValidationException', message: () => /at 'grantTokens' failed to satisfy constraint: Member must have length less than or equal to 10$/ },
    { when: 'the key id is not a key id', input: { KeyId: 'key_id' }, error: 'NotFoundException', message: () => "Invalid keyId 'key_id'" },
    { when: 'the key does not exist', input: { KeyId: '134f2428-cec1-4b25-a1ae-9048164dba47' }, error: 'NotFoundException', message: () => `Key 'arn:aws:kms:${REGION}:${ACCOUNT}:key/134f2428-cec1-4b25-a1ae-9048164dba47' does not exist` },
    { when: 'the mrk- key does not exist', input: { KeyId: 'mrk-1234abcd12ab34cd56ef1234567890ab' }, error: 'NotFoundException', message: () => `Key 'arn:aws:kms:${REGION}:${ACCOUNT}:key/mrk-1234abcd12ab34cd56ef1234567890ab' does not exist` },
    { when: 'the alias does not exist', input: { KeyId: 'alias/nope' }, error: 'NotFoundException', message: () => `Alias arn:aws:kms:${REGION}:${ACCOUNT}:alias/nope is not found.` },
    { when: 'the key ARN is of another region', input: { KeyId: `arn:aws:kms:us-west-2:${ACCOUNT}:key/134f2428-cec1-4b25-a1ae-9048164dba47` }, error: 'NotFoundException', message: () => 'Invalid arn us-west-2' },
    { when: 'DryRun is set and everything else is right', input: { DryRun: true }, error: 'DryRunOperationException', message: () => 'The request would have succeeded, but the DryRun option is set.' },
    { when: 'DryRun is set on a disabled key', prep: disable, input: { DryRun: true }, error: 'DisabledException' },
  ]
  // One server for the rows of this table: none of them changes what another checks.
  const table = sharedKms()
  for (const c of failures) {
    it(`fails with ${c.error} when ${c.when}`, async () => {
      const { kms } = await table()
      const { keyId, arn } = await hmacKey(kms, c.spec ?? 'HMAC_256')
      await c.prep?.(kms, keyId)
      await rejectsWith(
        kms.send(new GenerateMacCommand({ KeyId: keyId, Message: MESSAGE, MacAlgorithm: 'HMAC_SHA_256', ...c.input })),
        c.error,
        c.message?.(arn),
      )
    })
  }
})
