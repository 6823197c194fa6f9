// Imported key material (AWS KMS Developer Guide, Importing key material), end to end through the SDK: every spec with every
// wrapping algorithm gives MACs equal to HMAC(material, message) computed here; expiry is real;
// AWS's errors for wrong tokens, expired tokens, other material and bad ciphertext.
import assert from 'node:assert/strict'
import { constants, createCipheriv, createHmac, publicEncrypt, randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import {
  CancelKeyDeletionCommand,
  CreateKeyCommand,
  DeleteImportedKeyMaterialCommand,
  DescribeKeyCommand,
  GenerateMacCommand,
  GetParametersForImportCommand,
  EnableKeyCommand,
  ImportKeyMaterialCommand,
  ReplicateKeyCommand,
  ScheduleKeyDeletionCommand,
  VerifyMacCommand,
  type AlgorithmSpec,
  type KMSClient,
  type KeySpec,
  type MacAlgorithmSpec,
  type WrappingKeySpec,
} from '@aws-sdk/client-kms'
import { ACCOUNT, REGION, startKms } from '../helpers/server.js'
import { MESSAGE, rejectsWith } from '../helpers/keys.js'

const SPECS: [KeySpec, MacAlgorithmSpec, string, number][] = [
  ['HMAC_224', 'HMAC_SHA_224', 'sha224', 28],
  ['HMAC_256', 'HMAC_SHA_256', 'sha256', 32],
  ['HMAC_384', 'HMAC_SHA_384', 'sha384', 48],
  ['HMAC_512', 'HMAC_SHA_512', 'sha512', 64],
]
const ALGORITHMS: AlgorithmSpec[] = ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256', 'RSA_AES_KEY_WRAP_SHA_1', 'RSA_AES_KEY_WRAP_SHA_256']

/** Wraps material the way the AWS docs tell a client to (OpenSSL recipes), with node:crypto. */
function wrap(algorithm: AlgorithmSpec, publicKeyDer: Uint8Array, material: Buffer): Buffer {
  const key = { key: Buffer.from(publicKeyDer), format: 'der' as const, type: 'spki' as const, padding: constants.RSA_PKCS1_OAEP_PADDING }
  const hash = algorithm.endsWith('SHA_1') ? 'sha1' : 'sha256'
  if (algorithm.startsWith('RSAES_OAEP')) return publicEncrypt({ ...key, oaepHash: hash }, material)
  const aesKey = randomBytes(32)
  const cipher = createCipheriv('id-aes256-wrap-pad', aesKey, Buffer.from('A65959A6', 'hex'))
  return Buffer.concat([publicEncrypt({ ...key, oaepHash: hash }, aesKey), cipher.update(material), cipher.final()])
}

async function externalKey(kms: KMSClient, spec: KeySpec = 'HMAC_256'): Promise<string> {
  const out = await kms.send(new CreateKeyCommand({ KeySpec: spec, KeyUsage: 'GENERATE_VERIFY_MAC', Origin: 'EXTERNAL' }))
  assert.equal(out.KeyMetadata?.KeyState, 'PendingImport')
  assert.equal(out.KeyMetadata?.Origin, 'EXTERNAL')
  return out.KeyMetadata?.KeyId ?? ''
}

async function importInto(
  kms: KMSClient,
  keyId: string,
  material: Buffer,
  options: { algorithm?: AlgorithmSpec; spec?: WrappingKeySpec; validTo?: Date } = {},
): Promise<void> {
  const algorithm = options.algorithm ?? 'RSAES_OAEP_SHA_256'
  const params = await kms.send(new GetParametersForImportCommand({ KeyId: keyId, WrappingAlgorithm: algorithm, WrappingKeySpec: options.spec ?? 'RSA_2048' }))
  await kms.send(
    new ImportKeyMaterialCommand({
      KeyId: keyId,
      ImportToken: params.ImportToken,
      EncryptedKeyMaterial: wrap(algorithm, params.PublicKey ?? new Uint8Array(), material),
      ...(options.validTo ? { ValidTo: options.validTo, ExpirationModel: 'KEY_MATERIAL_EXPIRES' } : { ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' }),
    }),
  )
}

describe('importing HMAC key material', () => {
  it('gives MACs equal to HMAC(material) for every spec and wrapping algorithm', async (t) => {
    const { kms } = await startKms(t)
    for (const [spec, algorithm, hash, size] of SPECS) {
      for (const wrapping of ALGORITHMS) {
        const keyId = await externalKey(kms, spec)
        const material = randomBytes(size)
        await importInto(kms, keyId, material, { algorithm: wrapping })
        const out = await kms.send(new GenerateMacCommand({ KeyId: keyId, Message: MESSAGE, MacAlgorithm: algorithm }))
        assert.deepEqual(Buffer.from(out.Mac ?? new Uint8Array()), createHmac(hash, material).update(MESSAGE).digest(), `${spec} ${wrapping}`)
        const meta = (await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata
        assert.equal(meta?.KeyState, 'Enabled')
        assert.equal(meta?.ExpirationModel, 'KEY_MATERIAL_DOES_NOT_EXPIRE')
      }
    }
  })

  it('accepts RSA_3072 and RSA_4096 wrapping keys and material up to the block size', async (t) => {
    const { kms } = await startKms(t)
    for (const spec of ['RSA_3072', 'RSA_4096'] as const) {
      const keyId = await externalKey(kms)
      const material = randomBytes(64)
      await importInto(kms, keyId, material, { spec, algorithm: 'RSA_AES_KEY_WRAP_SHA_256' })
      const out = await kms.send(new GenerateMacCommand({ KeyId: keyId, Message: MESSAGE, MacAlgorithm: 'HMAC_SHA_256' }))
      assert.deepEqual(Buffer.from(out.Mac ?? new Uint8Array()), createHmac('sha256', material).update(MESSAGE).digest())
    }
  })

  it('expires material at ValidTo: the key goes back to PendingImport and MACs fail', async (t) => {
    let offset = 0
    const { kms, server } = await startKms(t, { now: () => Date.now() + offset, settings: { sweepIntervalSeconds: 1 } })
    const keyId = await externalKey(kms)
    const material = randomBytes(32)
    const validTo = new Date(Date.now() + 60_000)
    await importInto(kms, keyId, material, { validTo })
    const meta = (await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata
    assert.equal(meta?.ExpirationModel, 'KEY_MATERIAL_EXPIRES')
    assert.equal(Math.round((meta?.ValidTo?.getTime() ?? 0) / 1000), Math.round(validTo.getTime() / 1000))
    const mac = await kms.send(new GenerateMacCommand({ KeyId: keyId, Message: MESSAGE, MacAlgorithm: 'HMAC_SHA_256' }))

    offset = 61_000
    const arn = meta?.Arn ?? ''
    await rejectsWith(kms.send(new GenerateMacCommand({ KeyId: keyId, Message: MESSAGE, MacAlgorithm: 'HMAC_SHA_256' })), 'KMSInvalidStateException', `${arn} is pending import.`)
    await rejectsWith(kms.send(new VerifyMacCommand({ KeyId: keyId, Message: MESSAGE, MacAlgorithm: 'HMAC_SHA_256', Mac: mac.Mac })), 'KMSInvalidStateException')
    const expired = (await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata
    assert.equal(expired?.KeyState, 'PendingImport')
    assert.equal(expired?.ExpirationModel, undefined)
    // The expiry job stores it too (the material is gone from the record, not only hidden);
    // re-importing the same material brings the key back.
    const stored = async () => server.kms.store.getKey(ACCOUNT, REGION, keyId)
    for (let i = 0; i < 100 && (await stored())?.material !== undefined; i++) await new Promise((r) => setTimeout(r, 50))
    const record = await stored()
    assert.equal(record?.material, undefined)
    assert.equal(record?.state, 'PendingImport')
    await importInto(kms, keyId, material)
    assert.equal((await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata?.KeyState, 'Enabled')
  })

  it("answers AWS's errors and changes nothing on a refused import", async (t) => {
    let offset = 0
    const { kms } = await startKms(t, { now: () => Date.now() + offset })
    const keyId = await externalKey(kms)
    const other = await externalKey(kms)
    const material = randomBytes(32)
    const params = await kms.send(new GetParametersForImportCommand({ KeyId: keyId, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' }))
    assert.equal(params.KeyId?.endsWith(`key/${keyId}`), true)
    assert.ok(Math.abs((params.ParametersValidTo?.getTime() ?? 0) - (Date.now() + 86_400_000)) < 60_000)
    const encrypted = wrap('RSAES_OAEP_SHA_256', params.PublicKey ?? new Uint8Array(), material)
    const send = (extra: Partial<ConstructorParameters<typeof ImportKeyMaterialCommand>[0]>) =>
      kms.send(new ImportKeyMaterialCommand({ KeyId: keyId, ImportToken: params.ImportToken, EncryptedKeyMaterial: encrypted, ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE', ...extra }))

    await rejectsWith(send({ ExpirationModel: undefined }), 'ValidationException', 'A validTo date must be set if the ExpirationModel is KEY_MATERIAL_EXPIRES')
    await rejectsWith(send({ ValidTo: new Date(Date.now() + 3_600_000) }), 'ValidationException')
    await rejectsWith(send({ ExpirationModel: 'KEY_MATERIAL_EXPIRES', ValidTo: new Date(Date.now() - 1000) }), 'ValidationException')
    await rejectsWith(send({ ExpirationModel: 'KEY_MATERIAL_EXPIRES', ValidTo: new Date(Date.now() + 400 * 86_400_000) }), 'ValidationException')
    await rejectsWith(send({ KeyId: other }), 'InvalidImportTokenException')
    await rejectsWith(send({ ImportToken: randomBytes(48) }), 'InvalidImportTokenException')
    await rejectsWith(send({ EncryptedKeyMaterial: randomBytes(256) }), 'InvalidCiphertextException')
    await rejectsWith(send({ EncryptedKeyMaterial: wrap('RSAES_OAEP_SHA_256', params.PublicKey ?? new Uint8Array(), randomBytes(16)) }), 'ValidationException')
    await rejectsWith(kms.send(new GetParametersForImportCommand({ KeyId: keyId, WrappingAlgorithm: 'RSAES_PKCS1_V1_5', WrappingKeySpec: 'RSA_2048' })), 'ValidationException')
    assert.equal((await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata?.KeyState, 'PendingImport')

    offset = 25 * 3_600_000
    await rejectsWith(send({}), 'ExpiredImportTokenException')
    offset = 0
    await send({})
    assert.equal((await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata?.KeyState, 'Enabled')
    // Other material can never come in; the same material can (after deleting it, too).
    await rejectsWith(importInto(kms, keyId, randomBytes(32)), 'IncorrectKeyMaterialException')
    const deleted = await kms.send(new DeleteImportedKeyMaterialCommand({ KeyId: keyId }))
    assert.ok(deleted.KeyId?.endsWith(`key/${keyId}`))
    assert.equal((await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata?.KeyState, 'PendingImport')
    await rejectsWith(kms.send(new GenerateMacCommand({ KeyId: keyId, Message: MESSAGE, MacAlgorithm: 'HMAC_SHA_256' })), 'KMSInvalidStateException')
    await importInto(kms, keyId, material)

    const own = await kms.send(new CreateKeyCommand({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' }))
    const ownArn = own.KeyMetadata?.Arn ?? ''
    await rejectsWith(
      kms.send(new GetParametersForImportCommand({ KeyId: ownArn, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' })),
      'UnsupportedOperationException',
      `${ownArn} origin is AWS_KMS which is not valid for this operation.`,
    )
    await rejectsWith(kms.send(new DeleteImportedKeyMaterialCommand({ KeyId: ownArn })), 'UnsupportedOperationException')
  })
  it('never makes a key without material Enabled: after a cancelled deletion it is PendingImport, and MACs get 400', async (t) => {
    const { kms } = await startKms(t)
    const state = async (KeyId: string) => (await kms.send(new DescribeKeyCommand({ KeyId }))).KeyMetadata?.KeyState
    // Material imported, then deleted while the key waits for deletion, then the deletion cancelled.
    const imported = await externalKey(kms)
    const material = randomBytes(32)
    await importInto(kms, imported, material)
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: imported, PendingWindowInDays: 7 }))
    await kms.send(new DeleteImportedKeyMaterialCommand({ KeyId: imported }))
    await kms.send(new CancelKeyDeletionCommand({ KeyId: imported }))
    // A key that never had material, through the same window.
    const never = await externalKey(kms)
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: never, PendingWindowInDays: 7 }))
    await kms.send(new CancelKeyDeletionCommand({ KeyId: never }))
    for (const keyId of [imported, never]) {
      assert.equal(await state(keyId), 'PendingImport')
      await rejectsWith(kms.send(new EnableKeyCommand({ KeyId: keyId })), 'KMSInvalidStateException', /is pending import\.$/)
      await rejectsWith(kms.send(new GenerateMacCommand({ KeyId: keyId, Message: MESSAGE, MacAlgorithm: 'HMAC_SHA_256' })), 'KMSInvalidStateException', /is pending import\.$/)
    }
    // The same material brings it back.
    await importInto(kms, imported, material)
    assert.equal(await state(imported), 'Enabled')
    const out = await kms.send(new GenerateMacCommand({ KeyId: imported, Message: MESSAGE, MacAlgorithm: 'HMAC_SHA_256' }))
    assert.deepEqual(Buffer.from(out.Mac ?? new Uint8Array()), createHmac('sha256', material).update(MESSAGE).digest())
  })

  it("creates a replica of an imported-material key without material; it takes the primary's material only", async (t) => {
    const { kms, client } = await startKms(t)
    const eu = client('eu-west-1')
    const keyId = (await kms.send(new CreateKeyCommand({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC', MultiRegion: true, Origin: 'EXTERNAL' }))).KeyMetadata?.KeyId ?? ''
    const material = randomBytes(32)
    await importInto(kms, keyId, material)
    const replica = await kms.send(new ReplicateKeyCommand({ KeyId: keyId, ReplicaRegion: 'eu-west-1' }))
    assert.equal(replica.ReplicaKeyMetadata?.KeyState, 'PendingImport')
    assert.equal(replica.ReplicaKeyMetadata?.Origin, 'EXTERNAL')
    assert.equal(replica.ReplicaKeyMetadata?.ExpirationModel, undefined)
    await rejectsWith(eu.send(new GenerateMacCommand({ KeyId: keyId, Message: MESSAGE, MacAlgorithm: 'HMAC_SHA_256' })), 'KMSInvalidStateException', /is pending import\.$/)
    // Other material is refused; the primary's, with the replica's own expiration, is taken.
    await rejectsWith(importInto(eu, keyId, randomBytes(32)), 'IncorrectKeyMaterialException')
    const validTo = new Date(Date.now() + 3600_000)
    await importInto(eu, keyId, material, { validTo })
    const meta = (await eu.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata
    assert.equal(meta?.KeyState, 'Enabled')
    assert.equal(meta?.ExpirationModel, 'KEY_MATERIAL_EXPIRES')
    assert.equal((await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata?.ExpirationModel, 'KEY_MATERIAL_DOES_NOT_EXPIRE')
    const here = await kms.send(new GenerateMacCommand({ KeyId: keyId, Message: MESSAGE, MacAlgorithm: 'HMAC_SHA_256' }))
    const there = await eu.send(new GenerateMacCommand({ KeyId: keyId, Message: MESSAGE, MacAlgorithm: 'HMAC_SHA_256' }))
    assert.deepEqual(there.Mac, here.Mac)
  })
})
