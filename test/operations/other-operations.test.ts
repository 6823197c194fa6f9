// Rotation operations, GenerateRandom, key policies, and the cryptographic operations an HMAC key
// refuses with AWS's key-usage errors.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  DecryptCommand,
  DisableKeyCommand,
  DisableKeyRotationCommand,
  EnableKeyRotationCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GenerateRandomCommand,
  GetKeyPolicyCommand,
  GetKeyRotationStatusCommand,
  ListKeyPoliciesCommand,
  RotateKeyOnDemandCommand,
  SignCommand,
  VerifyCommand,
} from '@aws-sdk/client-kms'
import { ACCOUNT, sharedKms, startKms } from '../helpers/server.js'
import { hmacKey, MESSAGE, rejectsWith } from '../helpers/keys.js'

describe('rotation on HMAC keys', () => {
  it('reports rotation off, and refuses to enable, disable or rotate', async (t) => {
    const { kms } = await startKms(t)
    const { keyId, arn } = await hmacKey(kms)
    const status = await kms.send(new GetKeyRotationStatusCommand({ KeyId: keyId }))
    assert.equal(status.KeyRotationEnabled, false)
    assert.equal(status.KeyId, arn)
    await rejectsWith(kms.send(new EnableKeyRotationCommand({ KeyId: keyId })), 'UnsupportedOperationException')
    await rejectsWith(kms.send(new DisableKeyRotationCommand({ KeyId: keyId })), 'UnsupportedOperationException')
    await rejectsWith(kms.send(new RotateKeyOnDemandCommand({ KeyId: keyId })), 'UnsupportedOperationException')
  })

  it('answers DisabledException first for a disabled key', async (t) => {
    const { kms } = await startKms(t)
    const { keyId, arn } = await hmacKey(kms)
    await kms.send(new DisableKeyCommand({ KeyId: keyId }))
    await rejectsWith(kms.send(new RotateKeyOnDemandCommand({ KeyId: keyId })), 'DisabledException', `${arn} is disabled.`)
  })
})

describe('GenerateRandom', () => {
  // One server for the rows of this table: none of them changes what another checks.
  const table = sharedKms()
  for (const n of [1, 12, 44, 91, 1024]) {
    it(`returns ${n} random bytes`, async () => {
      const { kms } = await table()
      const out = await kms.send(new GenerateRandomCommand({ NumberOfBytes: n }))
      assert.equal(out.Plaintext?.length, n)
    })
  }
  it('refuses a missing, zero or too large NumberOfBytes with the recorded messages', async (t) => {
    const { kms } = await startKms(t)
    await rejectsWith(kms.send(new GenerateRandomCommand({})), 'ValidationException', 'NumberOfBytes is required.')
    await rejectsWith(kms.send(new GenerateRandomCommand({ NumberOfBytes: 0 })), 'ValidationException', "1 validation error detected: Value '0' at 'numberOfBytes' failed to satisfy constraint: Member must have value greater than or equal to 1")
    await rejectsWith(kms.send(new GenerateRandomCommand({ NumberOfBytes: 1025 })), 'ValidationException', "1 validation error detected: Value '1025' at 'numberOfBytes' failed to satisfy constraint: Member must have value less than or equal to 1024")
  })
})

describe('key policies', () => {
  it('attaches the default key policy and lists one policy named default', async (t) => {
    const { kms } = await startKms(t)
    const { keyId } = await hmacKey(kms)
    const out = await kms.send(new GetKeyPolicyCommand({ KeyId: keyId }))
    assert.equal(out.PolicyName, 'default')
    assert.deepEqual(JSON.parse(out.Policy ?? ''), {
      Version: '2012-10-17',
      Id: 'key-default-1',
      Statement: [{ Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'kms:*', Resource: '*' }],
    })
    const names = await kms.send(new ListKeyPoliciesCommand({ KeyId: keyId }))
    assert.deepEqual(names.PolicyNames, ['default'])
    assert.equal(names.Truncated, false)
  })
})

describe('operations an HMAC key cannot perform', () => {
  it('answers InvalidKeyUsageException naming the operation', async (t) => {
    const { kms } = await startKms(t)
    const { keyId, arn } = await hmacKey(kms)
    const usage = (op: string) => `${arn} key usage is GENERATE_VERIFY_MAC which is not valid for ${op}.`
    await rejectsWith(kms.send(new SignCommand({ KeyId: keyId, Message: MESSAGE, SigningAlgorithm: 'ECDSA_SHA_256' })), 'InvalidKeyUsageException', usage('Sign'))
    await rejectsWith(kms.send(new VerifyCommand({ KeyId: keyId, Message: MESSAGE, Signature: MESSAGE, SigningAlgorithm: 'ECDSA_SHA_256' })), 'InvalidKeyUsageException', usage('Verify'))
    await rejectsWith(kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: MESSAGE })), 'InvalidKeyUsageException', usage('Encrypt'))
    await rejectsWith(kms.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256' })), 'InvalidKeyUsageException', usage('GenerateDataKey'))
  })

  it('validates the request against the model before looking at the key, as AWS does', async (t) => {
    const { kms } = await startKms(t)
    const { keyId } = await hmacKey(kms)
    const invalid = (value: string | null, member: string, constraint: string) =>
      `1 validation error detected: Value ${value === null ? 'null' : `'${value}'`} at '${member}' failed to satisfy constraint: ${constraint}`
    // Recorded from AWS (the issue's probe): a 5,000-byte Plaintext.
    await rejectsWith(
      kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.alloc(5000) })),
      'ValidationException',
      "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: Member must have length less than or equal to 4096",
    )
    await rejectsWith(kms.send(new EncryptCommand({ KeyId: keyId } as never)), 'ValidationException', invalid(null, 'plaintext', 'Member must not be null'))
    await rejectsWith(
      kms.send(new SignCommand({ KeyId: keyId, Message: MESSAGE, SigningAlgorithm: 'HMAC' as never })),
      'ValidationException',
      /^1 validation error detected: Value 'HMAC' at 'signingAlgorithm' failed to satisfy constraint: Member must satisfy enum value set: \[RSASSA_PSS_SHA_256, /,
    )
    await rejectsWith(
      kms.send(new GenerateDataKeyCommand({ KeyId: keyId, NumberOfBytes: 2048 })),
      'ValidationException',
      "1 validation error detected: Value '2048' at 'numberOfBytes' failed to satisfy constraint: Member must have value less than or equal to 1024",
    )
  })

  it('answers IncorrectKeyException for Decrypt naming an HMAC key', async (t) => {
    const { kms } = await startKms(t)
    const { keyId } = await hmacKey(kms)
    await rejectsWith(kms.send(new DecryptCommand({ KeyId: keyId, CiphertextBlob: MESSAGE })), 'IncorrectKeyException', 'The key ID in the request does not identify a CMK that can perform this operation.')
  })
})
