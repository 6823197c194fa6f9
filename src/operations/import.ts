// AWS KMS API Reference > GetParametersForImport, ImportKeyMaterial, DeleteImportedKeyMaterial for
// HMAC keys (reference §6.14). The wrapping private key and the token digest are stored with the
// key (the private key sealed under the root of trust); only the latest token is valid.
import { EXPIRATION_MODELS, WRAPPING_ALGORITHMS, WRAPPING_KEY_SPECS, type WrappingAlgorithm } from '../domain.js'
import { keyMaterialContext, open as openEnvelope, seal } from '../crypto/envelope.js'
import { importLengthRange } from '../crypto/hmac.js'
import {
  HMAC_WRAPPING_ALGORITHMS,
  IMPORT_TOKEN_TTL_MS,
  MAX_VALID_TO_MS,
  RSA_BITS,
  importKeyContext,
  materialCheck,
  newImportToken,
  tokenDigest,
  unwrapMaterial,
} from '../keys/import.js'
import { withoutMaterial } from '../keys/lifecycle.js'
import { epochSeconds } from '../keys/metadata.js'
import type { KeyState } from '../domain.js'
import {
  ExpiredImportTokenException,
  IncorrectKeyMaterialException,
  InvalidImportTokenException,
  UnsupportedOperationException,
  ValidationException,
} from '../protocol/errors.js'
import { blob, optional, required, str, timestamp } from '../protocol/validate.js'
import type { KeyRecord } from '../store/store.js'
import { defineOperation } from './define.js'
import { keyId } from './fields.js'

const notExternal = (arn: string, record: KeyRecord) =>
  new UnsupportedOperationException(`${arn} origin is ${record.origin} which is not valid for this operation.`)

const IMPORTABLE: readonly KeyState[] = ['Enabled', 'Disabled', 'PendingImport', 'Updating']

export const getParametersForImport = defineOperation({
  name: 'GetParametersForImport',
  readOnly: true,
  request: {
    KeyId: keyId,
    WrappingAlgorithm: required(str({ enum: WRAPPING_ALGORITHMS })),
    WrappingKeySpec: required(str({ enum: WRAPPING_KEY_SPECS })),
  },
  async run(ctx, req) {
    const bits = RSA_BITS[req.WrappingKeySpec]
    if (!HMAC_WRAPPING_ALGORITHMS.includes(req.WrappingAlgorithm) || bits === undefined) {
      throw new ValidationException(
        `WrappingAlgorithm ${req.WrappingAlgorithm} with WrappingKeySpec ${req.WrappingKeySpec} is not supported for HMAC key material; use ${HMAC_WRAPPING_ALGORITHMS.join(', ')} with RSA_2048, RSA_3072 or RSA_4096.`,
      )
    }
    const values = new Map([
      ['kms:wrappingalgorithm', [req.WrappingAlgorithm]],
      ['kms:wrappingkeyspec', [req.WrappingKeySpec]],
    ])
    const { token, digest } = newImportToken()
    const validTo = ctx.now + IMPORT_TOKEN_TTL_MS
    // The key pair is made only once the key is resolved, authorized and importable (RSA work is
    // costly), and once only, even if the update is retried.
    let pair: { publicKey: Buffer; privateKey: Buffer } | undefined
    const { arn } = await ctx.updateKey(
      req.KeyId,
      { forms: 'idOrArn', usableIn: ['Enabled', 'Disabled', 'PendingImport'], values },
      async (record, keyArn) => {
        if (record.origin !== 'EXTERNAL') throw notExternal(keyArn, record)
        pair ??= await ctx.services.wrappingKeys.newKeyPair(ctx.caller.accountId, bits)
        const privateKey = await seal(ctx.services.root, pair.privateKey, importKeyContext(keyArn, digest))
        return {
          ...record,
          importParameters: {
            tokenDigest: digest,
            wrappingAlgorithm: req.WrappingAlgorithm,
            wrappingKeySpec: req.WrappingKeySpec,
            privateKey,
            validTo,
          },
        }
      },
    )
    if (pair === undefined) throw new Error('GetParametersForImport: no key pair was made')
    pair.privateKey.fill(0)
    return { KeyId: arn, ImportToken: token.toString('base64'), PublicKey: pair.publicKey.toString('base64'), ParametersValidTo: epochSeconds(validTo) }
  },
})

export const importKeyMaterial = defineOperation({
  name: 'ImportKeyMaterial',
  request: {
    KeyId: keyId,
    ImportToken: required(blob({ min: 1, max: 6144 })),
    EncryptedKeyMaterial: required(blob({ min: 1, max: 6144 })),
    ValidTo: optional(timestamp()),
    ExpirationModel: optional(str({ enum: EXPIRATION_MODELS })),
    ImportType: optional(str({ enum: ['NEW_KEY_MATERIAL', 'EXISTING_KEY_MATERIAL'] as const })),
    KeyMaterialDescription: optional(str({ min: 0, max: 256 })),
    KeyMaterialId: optional(str({ min: 64, max: 64, pattern: /^[a-f0-9]+$/ })),
  },
  async run(ctx, req) {
    const model = req.ExpirationModel ?? 'KEY_MATERIAL_EXPIRES'
    if (model === 'KEY_MATERIAL_EXPIRES') {
      if (req.ValidTo === undefined) throw new ValidationException('A validTo date must be set if the ExpirationModel is KEY_MATERIAL_EXPIRES')
      if (req.ValidTo <= ctx.now) throw new ValidationException('The ValidTo date must be in the future.')
      if (req.ValidTo > ctx.now + MAX_VALID_TO_MS) throw new ValidationException('The ValidTo date must be at most 365 days in the future.')
    } else if (req.ValidTo !== undefined) {
      throw new ValidationException('A validTo date must not be set if the ExpirationModel is KEY_MATERIAL_DOES_NOT_EXPIRE')
    }
    const values = new Map<string, readonly string[]>([['kms:expirationmodel', [model]]])
    if (req.ValidTo !== undefined) values.set('kms:validto', [String(Math.floor(req.ValidTo / 1000))])
    const { arn } = await ctx.updateKey(req.KeyId, { forms: 'idOrArn', usableIn: IMPORTABLE, values }, async (record, keyArn) => {
      if (record.origin !== 'EXTERNAL') throw notExternal(keyArn, record)
      const params = record.importParameters
      if (params === undefined || params.tokenDigest !== tokenDigest(req.ImportToken)) {
        throw new InvalidImportTokenException('The import token is not valid for this KMS key.')
      }
      if (params.validTo <= ctx.now) throw new ExpiredImportTokenException('The import token has expired.')
      const privateKey = await openEnvelope(ctx.services.root, params.privateKey, importKeyContext(keyArn, params.tokenDigest))
      let material: Buffer
      try {
        material = unwrapMaterial(params.wrappingAlgorithm as WrappingAlgorithm, privateKey, RSA_BITS[params.wrappingKeySpec as 'RSA_2048'] ?? 0, req.EncryptedKeyMaterial)
      } finally {
        privateKey.fill(0)
      }
      try {
        const range = importLengthRange(record.keySpec)
        if (material.length < range.min || material.length > range.max) {
          throw new ValidationException(
            `Key material for ${record.keySpec} must be ${range.min} to ${range.max} bytes long, got ${material.length}.`,
          )
        }
        const check = materialCheck(record.accountId, record.keyId, material)
        // HMAC keys cannot change material; a multi-Region replica must get its primary's.
        const known = record.importCheck ?? (await relatedCheck(ctx, record))
        if (known !== undefined && known !== check) {
          throw new IncorrectKeyMaterialException('The key material is not the material previously imported into this KMS key.')
        }
        const sealed = await seal(ctx.services.root, material, keyMaterialContext(keyArn))
        const { importParameters: _used, validTo: _v, expirationModel: _m, ...rest } = record
        return {
          ...rest,
          state: record.state === 'PendingImport' ? 'Enabled' : record.state,
          material: sealed,
          importCheck: check,
          expirationModel: model,
          ...(req.ValidTo === undefined ? {} : { validTo: req.ValidTo }),
        }
      } finally {
        material.fill(0)
      }
    })
    return { KeyId: arn }
  },
})

/** The material digest of another Region's copy of a multi-Region key, if any has material. */
async function relatedCheck(ctx: { services: { store: { listRelatedKeys(a: string, k: string): Promise<KeyRecord[]> } } }, record: KeyRecord): Promise<string | undefined> {
  if (!record.multiRegion) return undefined
  const related = await ctx.services.store.listRelatedKeys(record.accountId, record.keyId)
  return related.find((r) => r.importCheck !== undefined)?.importCheck
}

export const deleteImportedKeyMaterial = defineOperation({
  name: 'DeleteImportedKeyMaterial',
  request: { KeyId: keyId, KeyMaterialId: optional(str({ min: 64, max: 64, pattern: /^[a-f0-9]+$/ })) },
  async run(ctx, req) {
    const { arn } = await ctx.updateKey(
      req.KeyId,
      { forms: 'idOrArn', usableIn: ['Enabled', 'Disabled', 'PendingDeletion', 'PendingImport'] },
      (record, keyArn) => {
        if (record.origin !== 'EXTERNAL') throw notExternal(keyArn, record)
        return record.material === undefined ? record : withoutMaterial(record)
      },
    )
    return { KeyId: arn }
  },
})
