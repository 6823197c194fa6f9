// Member shapes shared by several operations, with the botocore model's constraints.
import { CUSTOMER_MASTER_KEY_SPECS, GRANT_OPERATIONS, KEY_SPECS, KEY_USAGES, MAC_ALGORITHMS, ORIGINS } from '../domain.js'
import { blob, bool, int, list, map, optional, required, str, struct } from '../protocol/validate.js'

export const keyIdShape = str({ min: 1, max: 2048 })
export const keyId = required(keyIdShape)
export const grantTokens = optional(list(str({ min: 1, max: 8192 }), { max: 10 }))
export const dryRun = optional(bool())
/** AWS prints this enum in its own order (recorded; test/fixtures/aws-texts.json). */
export const macAlgorithm = required(str({ enum: MAC_ALGORITHMS, enumOrder: ['HMAC_SHA_384', 'HMAC_SHA_256', 'HMAC_SHA_224', 'HMAC_SHA_512'] }))
/** Message of GenerateMac/VerifyMac: 1..4096 bytes, sensitive (never echoed). */
export const message = required(blob({ min: 1, max: 4096 }))
export const limit = (max: number) => optional(int({ min: 1, max }))
// Where the model's pattern has no ^...$ anchors, its messages print it without them.
export const marker = optional(str({ min: 1, max: 1024, pattern: /^[\u0020-\u00FF]*$/, patternText: '[\\u0020-\\u00FF]*' }))
export const policyName = optional(str({ min: 1, max: 128, pattern: /^[\w]+$/, patternText: '[\\w]+' }))
export const description = str({ min: 0, max: 8192 })
export const keySpec = str({ enum: KEY_SPECS })
export const keyUsage = str({ enum: KEY_USAGES })
export const origin = str({ enum: ORIGINS })
export const grantOperation = str({ enum: GRANT_OPERATIONS })
export const aliasName = str({ min: 1, max: 256, pattern: /^[a-zA-Z0-9:/_-]+$/ })
// eslint-disable-next-line no-control-regex -- the model allows tab, LF and CR in a policy
export const policy = str({ min: 1, max: 131072, pattern: /^[\u0009\u000A\u000D\u0020-\u00FF]+$/, patternText: '[\\u0009\\u000A\\u000D\\u0020-\\u00FF]+' })
/** CreateKey's CustomerMasterKeySpec has an enum of its own (the older 13 values). */
export const customerMasterKeySpec = str({ enum: CUSTOMER_MASTER_KEY_SPECS })
export const tagList = list(
  struct({
    TagKey: required(str({ min: 1, max: 128 })),
    TagValue: required(str({ min: 0, max: 256 })),
  }),
)

// Members of the cryptographic operations an HMAC key refuses: validated as the model says
// before the key is looked at, as AWS does.
export const encryptionContext = optional(map(str({})))
export const encryptionAlgorithm = optional(str({ enum: ['SYMMETRIC_DEFAULT', 'RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256', 'SM2PKE'] as const }))
export const ciphertextBlob = blob({ min: 1, max: 6144 })
/** Plaintext, Message (Sign, Verify): sensitive, never echoed. */
export const plaintext = blob({ min: 1, max: 4096 })
export const signingAlgorithm = str({
  enum: [
    'RSASSA_PSS_SHA_256', 'RSASSA_PSS_SHA_384', 'RSASSA_PSS_SHA_512', 'RSASSA_PKCS1_V1_5_SHA_256', 'RSASSA_PKCS1_V1_5_SHA_384',
    'RSASSA_PKCS1_V1_5_SHA_512', 'ECDSA_SHA_256', 'ECDSA_SHA_384', 'ECDSA_SHA_512', 'SM2DSA', 'ML_DSA_SHAKE_256', 'ED25519_SHA_512',
    'ED25519_PH_SHA_512',
  ] as const,
})
export const messageType = optional(str({ enum: ['RAW', 'DIGEST', 'EXTERNAL_MU'] as const }))
export const dataKeySpec = optional(str({ enum: ['AES_256', 'AES_128'] as const }))
export const dataKeyPairSpec = required(
  str({ enum: ['RSA_2048', 'RSA_3072', 'RSA_4096', 'ECC_NIST_P256', 'ECC_NIST_P384', 'ECC_NIST_P521', 'ECC_SECG_P256K1', 'SM2', 'ECC_NIST_EDWARDS25519'] as const }),
)
export const numberOfBytes = optional(int({ min: 1, max: 1024 }))
/** Nitro Enclaves attestation (Decrypt, GenerateDataKey*, DeriveSharedSecret, GenerateRandom). */
export const recipient = optional(
  struct({ KeyEncryptionAlgorithm: optional(str({ enum: ['RSAES_OAEP_SHA_256'] as const })), AttestationDocument: optional(blob({ min: 1, max: 262144 })) }),
)
export const dryRunModifiers = optional(list(str({ enum: ['IGNORE_CIPHERTEXT'] as const })))
