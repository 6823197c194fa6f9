// ValidationException texts where AWS's are known to the letter: the model's patterns as the model
// writes them (no anchors it does not have), enums in the order AWS prints them where recorded,
// and members the model constrains that an HMAC service could have let through.
import { describe, it } from 'node:test'
import {
  CreateKeyCommand,
  GenerateMacCommand,
  GenerateRandomCommand,
  ImportKeyMaterialCommand,
  ListAliasesCommand,
  ListKeyRotationsCommand,
  PutKeyPolicyCommand,
  type CustomerMasterKeySpec,
  type IncludeKeyMaterial,
  type KeyEncryptionMechanism,
  type MacAlgorithmSpec,
} from '@aws-sdk/client-kms'
import { startKms } from '../helpers/server.js'
import { hmacKey, MESSAGE, rejectsWith } from '../helpers/keys.js'

const invalid = (value: string, member: string, constraint: string) =>
  `1 validation error detected: Value '${value}' at '${member}' failed to satisfy constraint: ${constraint}`

describe('validation texts', () => {
  it('prints model patterns verbatim and enums in the order AWS prints them', async (t) => {
    const { kms } = await startKms(t)
    const key = await hmacKey(kms)
    // Marker, Policy and PolicyName: the model's patterns have no ^...$ anchors.
    await rejectsWith(kms.send(new ListAliasesCommand({ Marker: '\u0100' })), 'ValidationException', invalid('\u0100', 'marker', 'Member must satisfy regular expression pattern: [\\u0020-\\u00FF]*'))
    await rejectsWith(
      kms.send(new PutKeyPolicyCommand({ KeyId: key.keyId, PolicyName: 'not-default', Policy: '{}' })),
      'ValidationException',
      invalid('not-default', 'policyName', 'Member must satisfy regular expression pattern: [\\w]+'),
    )
    // Recorded from AWS (test/fixtures/aws-texts.json): its own order, not the model's.
    await rejectsWith(
      kms.send(new GenerateMacCommand({ KeyId: key.keyId, Message: MESSAGE, MacAlgorithm: 'HMAC_SHA_1' as MacAlgorithmSpec })),
      'ValidationException',
      invalid('HMAC_SHA_1', 'macAlgorithm', 'Member must satisfy enum value set: [HMAC_SHA_384, HMAC_SHA_256, HMAC_SHA_224, HMAC_SHA_512]'),
    )
  })

  it('validates the members the model constrains, also where HMAC keys do not use them', async (t) => {
    const { kms } = await startKms(t)
    const key = await hmacKey(kms)
    // CustomerMasterKeySpec has its own, older enum: ML_DSA_44 is a KeySpec but not one of them.
    await rejectsWith(
      kms.send(new CreateKeyCommand({ CustomerMasterKeySpec: 'ML_DSA_44' as CustomerMasterKeySpec, KeyUsage: 'GENERATE_VERIFY_MAC' })),
      'ValidationException',
      /^1 validation error detected: Value 'ML_DSA_44' at 'customerMasterKeySpec' failed to satisfy constraint: Member must satisfy enum value set: \[RSA_2048, .*, SM2\]$/,
    )
    await rejectsWith(
      kms.send(new ListKeyRotationsCommand({ KeyId: key.keyId, IncludeKeyMaterial: 'SOME' as IncludeKeyMaterial })),
      'ValidationException',
      invalid('SOME', 'includeKeyMaterial', 'Member must satisfy enum value set: [ALL_KEY_MATERIAL, ROTATIONS_ONLY]'),
    )
    await rejectsWith(
      kms.send(new ImportKeyMaterialCommand({ KeyId: key.keyId, ImportToken: Buffer.from('t'), EncryptedKeyMaterial: Buffer.from('m'), KeyMaterialDescription: 'no;semicolons' })),
      'ValidationException',
      invalid('no;semicolons', 'keyMaterialDescription', 'Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_\\s.-]+$'),
    )
    await rejectsWith(
      kms.send(new GenerateRandomCommand({ NumberOfBytes: 16, Recipient: { KeyEncryptionAlgorithm: 'RSA' as KeyEncryptionMechanism } })),
      'ValidationException',
      invalid('RSA', 'recipient.keyEncryptionAlgorithm', 'Member must satisfy enum value set: [RSAES_OAEP_SHA_256]'),
    )
  })
})
