// AWS KMS API Reference > ImportKeyMaterial.
import { EXPIRATION_MODELS, type WrappingAlgorithm } from '../domain.js'
import { keyMaterialContext, open as openEnvelope, seal } from '../crypto/envelope.js'
import { importLengthRange } from '../crypto/hmac.js'
import { MAX_VALID_TO_MS, RSA_BITS, importKeyContext, materialCheck, tokenDigest, unwrapMaterial } from '../keys/import.js'
import type { KeyState } from '../domain.js'
import { ExpiredImportTokenException, IncorrectKeyMaterialException, InvalidImportTokenException, ValidationException } from '../protocol/errors.js'
import { blob, optional, required, str, timestamp } from '../protocol/validate.js'
import type { KeyRecord } from '../store/store.js'
import { defineOperation, type OperationContext } from './define.js'
import { keyId } from './fields.js'
import { notExternal } from './import.js'

const IMPORTABLE: readonly KeyState[] = ['Enabled', 'Disabled', 'PendingImport', 'Updating']

async function relatedCheck(ctx: OperationContext, record: KeyRecord): Promise<string | undefined> {
  if (!record.multiRegion) return undefined
  const related = await ctx.records.regionsOf(record)
  return related.find((r) => r.importCheck !== undefined)?.importCheck
}

export const importKeyMaterial = defineOperation({
  name: 'ImportKeyMaterial',
  keyIdForms: 'idOrArn',
  usableIn: IMPORTABLE,
  request: {
    KeyId: keyId,
    ImportToken: required(blob({ min: 1, max: 6144 })),
    EncryptedKeyMaterial: required(blob({ min: 1, max: 6144 })),
    ValidTo: optional(timestamp()),
    ExpirationModel: optional(str({ enum: EXPIRATION_MODELS })),
    ImportType: optional(str({ enum: ['NEW_KEY_MATERIAL', 'EXISTING_KEY_MATERIAL'] as const })),
    KeyMaterialDescription: optional(str({ min: 0, max: 256, pattern: /^[a-zA-Z0-9:/_\s.-]+$/ })),
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
    const { arn } = await ctx.updateKey(req.KeyId, { values }, async (record, keyArn) => {
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
