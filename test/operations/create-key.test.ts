import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { CreateKeyCommand, DescribeKeyCommand, ListResourceTagsCommand } from '@aws-sdk/client-kms'
import { ACCOUNT, REGION, sharedKms, startKms } from '../helpers/server.js'
import { rejectsWith } from '../helpers/keys.js'

const SPECS = [
  ['HMAC_224', 'HMAC_SHA_224'],
  ['HMAC_256', 'HMAC_SHA_256'],
  ['HMAC_384', 'HMAC_SHA_384'],
  ['HMAC_512', 'HMAC_SHA_512'],
] as const

describe('CreateKey', () => {
  // One server for the rows of this table: none of them changes what another checks.
  const specs = sharedKms()
  for (const [spec, alg] of SPECS) {
    it(`creates an ${spec} key with exactly AWS's metadata fields`, async () => {
      const { kms } = await specs()
      const before = Date.now() / 1000
      const out = await kms.send(new CreateKeyCommand({ KeySpec: spec, KeyUsage: 'GENERATE_VERIFY_MAC', Description: 'test key' }))
      const m = out.KeyMetadata
      assert.ok(m)
      assert.match(m.KeyId ?? '', /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)
      assert.equal(m.Arn, `arn:aws:kms:${REGION}:${ACCOUNT}:key/${m.KeyId}`)
      assert.deepEqual(
        Object.keys(m).sort(),
        ['AWSAccountId', 'Arn', 'CreationDate', 'CustomerMasterKeySpec', 'Description', 'Enabled', 'KeyId', 'KeyManager', 'KeySpec', 'KeyState', 'KeyUsage', 'MacAlgorithms', 'MultiRegion', 'Origin'],
      )
      assert.equal(m.AWSAccountId, ACCOUNT)
      assert.equal(m.KeySpec, spec)
      assert.equal(m.CustomerMasterKeySpec, spec)
      assert.equal(m.KeyUsage, 'GENERATE_VERIFY_MAC')
      assert.equal(m.KeyState, 'Enabled')
      assert.equal(m.Enabled, true)
      assert.equal(m.Origin, 'AWS_KMS')
      assert.equal(m.KeyManager, 'CUSTOMER')
      assert.equal(m.MultiRegion, false)
      assert.equal(m.Description, 'test key')
      assert.deepEqual(m.MacAlgorithms, [alg])
      assert.ok(m.CreationDate instanceof Date)
      assert.ok(m.CreationDate.getTime() / 1000 >= before - 1)
    })
  }

  it('gives Description "" when none is set, and describes the same metadata', async (t) => {
    const { kms } = await startKms(t)
    const out = await kms.send(new CreateKeyCommand({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' }))
    assert.equal(out.KeyMetadata?.Description, '')
    const described = await kms.send(new DescribeKeyCommand({ KeyId: out.KeyMetadata?.KeyId }))
    assert.deepEqual(described.KeyMetadata, out.KeyMetadata)
  })

  it('creates a multi-Region primary with an mrk- id and an empty replica list', async (t) => {
    const { kms } = await startKms(t)
    const out = await kms.send(new CreateKeyCommand({ KeySpec: 'HMAC_384', KeyUsage: 'GENERATE_VERIFY_MAC', MultiRegion: true }))
    const m = out.KeyMetadata
    assert.match(m?.KeyId ?? '', /^mrk-[0-9a-f]{32}$/)
    assert.equal(m?.MultiRegion, true)
    assert.deepEqual(m?.MultiRegionConfiguration, {
      MultiRegionKeyType: 'PRIMARY',
      PrimaryKey: { Arn: m?.Arn, Region: REGION },
      ReplicaKeys: [],
    })
  })

  it('stores tags sorted by key', async (t) => {
    const { kms } = await startKms(t)
    const out = await kms.send(new CreateKeyCommand({
      KeySpec: 'HMAC_256',
      KeyUsage: 'GENERATE_VERIFY_MAC',
      Tags: [{ TagKey: 'b', TagValue: '2' }, { TagKey: 'a', TagValue: '' }],
    }))
    const tags = await kms.send(new ListResourceTagsCommand({ KeyId: out.KeyMetadata?.KeyId }))
    assert.deepEqual(tags.Tags, [{ TagKey: 'a', TagValue: '' }, { TagKey: 'b', TagValue: '2' }])
  })

  const failures: { when: string; input: Record<string, unknown>; error: string; message?: string | RegExp }[] = [
    { when: 'an HMAC spec has no KeyUsage', input: { KeySpec: 'HMAC_256' }, error: 'ValidationException', message: 'You must specify a KeyUsage value for all KMS keys except for symmetric encryption keys.' },
    { when: 'an HMAC spec has KeyUsage ENCRYPT_DECRYPT', input: { KeySpec: 'HMAC_256', KeyUsage: 'ENCRYPT_DECRYPT' }, error: 'ValidationException', message: 'KeyUsage ENCRYPT_DECRYPT is not compatible with KeySpec HMAC_256' },
    { when: 'KeySpec is not in the enum', input: { KeySpec: 'HMAC_random', KeyUsage: 'GENERATE_VERIFY_MAC' }, error: 'ValidationException', message: /^1 validation error detected: Value 'HMAC_random' at 'keySpec' failed to satisfy constraint: Member must satisfy enum value set: \[/ },
    { when: 'KeyUsage is not in the enum', input: { KeySpec: 'HMAC_256', KeyUsage: 'RANDOM' }, error: 'ValidationException', message: /^1 validation error detected: Value 'RANDOM' at 'keyUsage' failed to satisfy constraint: Member must satisfy enum value set: \[/ },
    { when: 'the key is a symmetric encryption key', input: {}, error: 'UnsupportedOperationException', message: /HMAC keys only/ },
    { when: 'the key is an RSA key', input: { KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' }, error: 'UnsupportedOperationException' },
    { when: 'the origin is a custom key store', input: { KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC', Origin: 'AWS_CLOUDHSM' }, error: 'UnsupportedOperationException' },
    { when: 'a tag key starts with aws:', input: { KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC', Tags: [{ TagKey: 'AWS:x', TagValue: 'v' }] }, error: 'TagException', message: 'Tags beginning with aws: are reserved' },
    { when: 'a tag key is given twice', input: { KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC', Tags: [{ TagKey: 'k', TagValue: '1' }, { TagKey: 'k', TagValue: '2' }] }, error: 'TagException', message: 'Duplicate tag keys' },
    { when: 'there are 51 tags', input: { KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC', Tags: Array.from({ length: 51 }, (_, i) => ({ TagKey: `k${i}`, TagValue: 'v' })) }, error: 'TagException', message: 'Too many tags' },
    { when: 'a tag key is over 128 characters', input: { KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC', Tags: [{ TagKey: 'k'.repeat(129), TagValue: 'v' }] }, error: 'ValidationException', message: `1 validation error detected: Value '${'k'.repeat(129)}' at 'tags.1.member.tagKey' failed to satisfy constraint: Member must have length less than or equal to 128` },
    { when: 'a tag value is over 256 characters', input: { KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC', Tags: [{ TagKey: 'a', TagValue: 'v' }, { TagKey: 'k', TagValue: 'v'.repeat(257) }] }, error: 'ValidationException', message: `1 validation error detected: Value '${'v'.repeat(257)}' at 'tags.2.member.tagValue' failed to satisfy constraint: Member must have length less than or equal to 256` },
    { when: 'the description is over 8192 characters', input: { KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC', Description: 'd'.repeat(8193) }, error: 'ValidationException', message: /at 'description' failed to satisfy constraint: Member must have length less than or equal to 8192$/ },
    { when: 'the policy is not JSON', input: { KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC', Policy: '{not json' }, error: 'MalformedPolicyDocumentException' },
    { when: 'the policy is over 32 KB', input: { KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC', Policy: JSON.stringify({ Statement: [], Pad: 'x'.repeat(33000) }) }, error: 'LimitExceededException' },
  ]
  // One server for the rows of this table: none of them changes what another checks.
  const table = sharedKms()
  for (const c of failures) {
    it(`fails with ${c.error} when ${c.when}, and creates nothing`, async () => {
      const { kms } = await table()
      await rejectsWith(kms.send(new CreateKeyCommand(c.input)), c.error, c.message)
      const { ListKeysCommand } = await import('@aws-sdk/client-kms')
      const listed = await kms.send(new ListKeysCommand({}))
      assert.deepEqual(listed.Keys, [])
    })
  }
})
