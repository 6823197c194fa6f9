// AWS KMS enumerations shared by every layer (as const arrays plus derived unions).
// Source: botocore KMS model 2014-11-01; AWS KMS Developer Guide (HMAC keys, Key states).

export const HMAC_KEY_SPECS = ['HMAC_224', 'HMAC_256', 'HMAC_384', 'HMAC_512'] as const
export type HmacKeySpec = (typeof HMAC_KEY_SPECS)[number]

/** The deprecated CustomerMasterKeySpec enum: the key specs that existed when it was replaced. */
export const CUSTOMER_MASTER_KEY_SPECS = [
  'RSA_2048',
  'RSA_3072',
  'RSA_4096',
  'ECC_NIST_P256',
  'ECC_NIST_P384',
  'ECC_NIST_P521',
  'ECC_SECG_P256K1',
  'SYMMETRIC_DEFAULT',
  ...HMAC_KEY_SPECS,
  'SM2',
] as const

/** Every KeySpec the model knows, in the order the enum message prints them. */
export const KEY_SPECS = [...CUSTOMER_MASTER_KEY_SPECS, 'ML_DSA_44', 'ML_DSA_65', 'ML_DSA_87', 'ECC_NIST_EDWARDS25519'] as const
export type KeySpec = (typeof KEY_SPECS)[number]

export const KEY_USAGES = [
  'SIGN_VERIFY',
  'ENCRYPT_DECRYPT',
  'GENERATE_VERIFY_MAC',
  'KEY_AGREEMENT',
] as const
export type KeyUsage = (typeof KEY_USAGES)[number]

export const ORIGINS = ['AWS_KMS', 'EXTERNAL', 'AWS_CLOUDHSM', 'EXTERNAL_KEY_STORE'] as const
export type Origin = (typeof ORIGINS)[number]

export const EXPIRATION_MODELS = ['KEY_MATERIAL_EXPIRES', 'KEY_MATERIAL_DOES_NOT_EXPIRE'] as const
export type ExpirationModel = (typeof EXPIRATION_MODELS)[number]

export const WRAPPING_ALGORITHMS = [
  'RSAES_PKCS1_V1_5',
  'RSAES_OAEP_SHA_1',
  'RSAES_OAEP_SHA_256',
  'RSA_AES_KEY_WRAP_SHA_1',
  'RSA_AES_KEY_WRAP_SHA_256',
  'SM2PKE',
] as const
export type WrappingAlgorithm = (typeof WRAPPING_ALGORITHMS)[number]

export const WRAPPING_KEY_SPECS = ['RSA_2048', 'RSA_3072', 'RSA_4096', 'SM2'] as const
export type WrappingKeySpec = (typeof WRAPPING_KEY_SPECS)[number]

export const MAC_ALGORITHMS = ['HMAC_SHA_224', 'HMAC_SHA_256', 'HMAC_SHA_384', 'HMAC_SHA_512'] as const
export type MacAlgorithm = (typeof MAC_ALGORITHMS)[number]

/** What a key spec is: the one table a new HMAC key spec is added to. */
export interface HmacSpec {
  /** The one MAC algorithm the spec allows (KeyMetadata.MacAlgorithms). */
  readonly macAlgorithm: MacAlgorithm
  /** node:crypto digest name. */
  readonly digest: string
  /** Generated material and the shortest importable material, in bytes: the digest size. */
  readonly materialBytes: number
  /** The longest importable material: the hash block size. */
  readonly blockBytes: number
  /** The MAC length in bytes (the full digest). */
  readonly macBytes: number
}

/** HMAC key specs (AWS KMS developer guide, HMAC keys: key specs and lengths; RFC 2104). */
export const HMAC_SPECS: Readonly<Record<HmacKeySpec, HmacSpec>> = {
  HMAC_224: { macAlgorithm: 'HMAC_SHA_224', digest: 'sha224', materialBytes: 28, blockBytes: 64, macBytes: 28 },
  HMAC_256: { macAlgorithm: 'HMAC_SHA_256', digest: 'sha256', materialBytes: 32, blockBytes: 64, macBytes: 32 },
  HMAC_384: { macAlgorithm: 'HMAC_SHA_384', digest: 'sha384', materialBytes: 48, blockBytes: 128, macBytes: 48 },
  HMAC_512: { macAlgorithm: 'HMAC_SHA_512', digest: 'sha512', materialBytes: 64, blockBytes: 128, macBytes: 64 },
}

/** The key spec of each MAC algorithm (each allows exactly one spec). */
export const SPEC_OF_ALGORITHM: Readonly<Record<MacAlgorithm, HmacKeySpec>> = Object.fromEntries(
  HMAC_KEY_SPECS.map((spec) => [HMAC_SPECS[spec].macAlgorithm, spec]),
) as Record<MacAlgorithm, HmacKeySpec>

export const KEY_STATES = [
  'Creating',
  'Enabled',
  'Disabled',
  'PendingDeletion',
  'PendingImport',
  'PendingReplicaDeletion',
  'Unavailable',
  'Updating',
] as const
export type KeyState = (typeof KEY_STATES)[number]

export const GRANT_OPERATIONS = [
  'Decrypt',
  'Encrypt',
  'GenerateDataKey',
  'GenerateDataKeyWithoutPlaintext',
  'ReEncryptFrom',
  'ReEncryptTo',
  'Sign',
  'Verify',
  'GetPublicKey',
  'CreateGrant',
  'RetireGrant',
  'DescribeKey',
  'GenerateDataKeyPair',
  'GenerateDataKeyPairWithoutPlaintext',
  'GenerateMac',
  'VerifyMac',
  'DeriveSharedSecret',
] as const
export type GrantOperation = (typeof GRANT_OPERATIONS)[number]

export interface Tag {
  readonly key: string
  readonly value: string
}

/**
 * AWS's public Regions by partition (botocore endpoints.json, 2026): the Regions a credential
 * scope may name, with the operator's own (`--regions`) and the default Region.
 */
export const AWS_REGIONS: readonly string[] = [
  'af-south-1', 'ap-east-1', 'ap-east-2', 'ap-northeast-1', 'ap-northeast-2', 'ap-northeast-3', 'ap-south-1', 'ap-south-2',
  'ap-southeast-1', 'ap-southeast-2', 'ap-southeast-3', 'ap-southeast-4', 'ap-southeast-5', 'ap-southeast-6', 'ap-southeast-7',
  'ca-central-1', 'ca-west-1', 'eu-central-1', 'eu-central-2', 'eu-north-1', 'eu-south-1', 'eu-south-2', 'eu-west-1', 'eu-west-2',
  'eu-west-3', 'il-central-1', 'me-central-1', 'me-south-1', 'mx-central-1', 'sa-east-1', 'us-east-1', 'us-east-2', 'us-west-1',
  'us-west-2', 'cn-north-1', 'cn-northwest-1', 'us-gov-east-1', 'us-gov-west-1', 'us-iso-east-1', 'us-iso-west-1', 'us-isob-east-1',
  'us-isob-west-1', 'eu-isoe-west-1', 'us-isof-east-1', 'us-isof-south-1', 'eusc-de-east-1',
]
