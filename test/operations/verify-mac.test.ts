import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { CreateKeyCommand, DisableKeyCommand, GenerateMacCommand, VerifyMacCommand } from '@aws-sdk/client-kms'
import { sharedKms, startKms } from '../helpers/server.js'
import { hmacKey, MESSAGE, rejectsWith } from '../helpers/keys.js'

describe('VerifyMac', () => {
  it('verifies a fresh MAC with MacValid true and the key ARN', async (t) => {
    const { kms } = await startKms(t)
    const { keyId, arn } = await hmacKey(kms, 'HMAC_512')
    const { Mac } = await kms.send(new GenerateMacCommand({ KeyId: keyId, Message: MESSAGE, MacAlgorithm: 'HMAC_SHA_512' }))
    const out = await kms.send(new VerifyMacCommand({ KeyId: keyId, Message: MESSAGE, MacAlgorithm: 'HMAC_SHA_512', Mac }))
    assert.equal(out.MacValid, true)
    assert.equal(out.KeyId, arn)
    assert.equal(out.MacAlgorithm, 'HMAC_SHA_512')
  })

  it('rejects every wrong MAC with KMSInvalidMacException and no message', async (t) => {
    const { kms } = await startKms(t)
    const { keyId } = await hmacKey(kms)
    const other = await hmacKey(kms)
    const mac = Buffer.from((await kms.send(new GenerateMacCommand({ KeyId: keyId, Message: MESSAGE, MacAlgorithm: 'HMAC_SHA_256' }))).Mac ?? [])
    const otherMac = (await kms.send(new GenerateMacCommand({ KeyId: other.keyId, Message: MESSAGE, MacAlgorithm: 'HMAC_SHA_256' }))).Mac
    const flipped = Buffer.from(mac)
    flipped[31] = (flipped[31] ?? 0) ^ 1
    const cases: { Message: Uint8Array; Mac: Uint8Array | undefined }[] = [
      { Message: Buffer.from('Hello World?'), Mac: mac },
      { Message: MESSAGE, Mac: flipped },
      { Message: MESSAGE, Mac: mac.subarray(0, 31) },
      { Message: MESSAGE, Mac: Buffer.concat([mac, Buffer.from([0])]) },
      { Message: MESSAGE, Mac: otherMac },
    ]
    for (const c of cases) {
      await rejectsWith(kms.send(new VerifyMacCommand({ KeyId: keyId, MacAlgorithm: 'HMAC_SHA_256', ...c })), 'KMSInvalidMacException')
    }
  })

  it('checks the algorithm against the key spec before comparing the MAC', async (t) => {
    const { kms } = await startKms(t)
    const { keyId } = await hmacKey(kms)
    await rejectsWith(
      kms.send(new VerifyMacCommand({ KeyId: keyId, Message: MESSAGE, MacAlgorithm: 'HMAC_SHA_512', Mac: new Uint8Array(64) })),
      'InvalidKeyUsageException',
      'Algorithm HMAC_SHA_512 is incompatible with key spec HMAC_256.',
    )
  })

  it('answers a correct dry run with DryRunOperationException and a wrong one with KMSInvalidMacException', async (t) => {
    const { kms } = await startKms(t)
    const { keyId } = await hmacKey(kms)
    const { Mac } = await kms.send(new GenerateMacCommand({ KeyId: keyId, Message: MESSAGE, MacAlgorithm: 'HMAC_SHA_256' }))
    await rejectsWith(kms.send(new VerifyMacCommand({ KeyId: keyId, Message: MESSAGE, MacAlgorithm: 'HMAC_SHA_256', Mac, DryRun: true })), 'DryRunOperationException', 'The request would have succeeded, but the DryRun option is set.')
    await rejectsWith(kms.send(new VerifyMacCommand({ KeyId: keyId, Message: MESSAGE, MacAlgorithm: 'HMAC_SHA_256', Mac: new Uint8Array(32), DryRun: true })), 'KMSInvalidMacException')
  })

  const failures = [
    { when: 'the Mac is empty', input: { Mac: new Uint8Array(0) }, error: 'ValidationException', message: /at 'mac' failed to satisfy constraint: Member must have length greater than or equal to 1$/ },
    { when: 'the Mac is over 6144 bytes', input: { Mac: new Uint8Array(6145) }, error: 'ValidationException', message: /at 'mac' failed to satisfy constraint: Member must have length less than or equal to 6144$/ },
    { when: 'the message is over 4096 bytes', input: { Message: new Uint8Array(4097) }, error: 'ValidationException', message: /^1 validation error detected: Value at 'message'/ },
    { when: 'both message and Mac are too long', input: { Message: new Uint8Array(4097), Mac: new Uint8Array(6145) }, error: 'ValidationException', message: /^2 validation errors detected: Value at 'message'.*; Value at 'mac'/ },
    { when: 'the key is disabled', disabled: true, input: {}, error: 'DisabledException', message: / is disabled\.$/ },
  ]
  // One server for the rows of this table: none of them changes what another checks.
  const table = sharedKms()
  for (const c of failures) {
    it(`fails with ${c.error} when ${c.when}`, async () => {
      const { kms } = await table()
      const { keyId } = await hmacKey(kms)
      if (c.disabled) await kms.send(new DisableKeyCommand({ KeyId: keyId }))
      await rejectsWith(kms.send(new VerifyMacCommand({ KeyId: keyId, Message: MESSAGE, MacAlgorithm: 'HMAC_SHA_256', Mac: new Uint8Array(32), ...c.input })), c.error, c.message)
    })
  }

  it('refuses a MAC from a key of another spec with InvalidKeyUsageException', async (t) => {
    const { kms } = await startKms(t)
    const out = await kms.send(new CreateKeyCommand({ KeySpec: 'HMAC_384', KeyUsage: 'GENERATE_VERIFY_MAC' }))
    await rejectsWith(kms.send(new VerifyMacCommand({ KeyId: out.KeyMetadata?.KeyId, Message: MESSAGE, MacAlgorithm: 'HMAC_SHA_256', Mac: new Uint8Array(32) })), 'InvalidKeyUsageException', 'Algorithm HMAC_SHA_256 is incompatible with key spec HMAC_384.')
  })
})
