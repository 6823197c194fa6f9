// AWS KMS API Reference > GetParametersForImport.
import { WRAPPING_ALGORITHMS, WRAPPING_KEY_SPECS } from '../domain.js'
import { seal } from '../crypto/envelope.js'
import { HMAC_WRAPPING_ALGORITHMS, IMPORT_TOKEN_TTL_MS, RSA_BITS, importKeyContext, newImportToken } from '../keys/import.js'
import { epochSeconds } from '../keys/metadata.js'
import { ValidationException } from '../protocol/errors.js'
import { required, str } from '../protocol/validate.js'
import { defineOperation } from './define.js'
import { keyId } from './fields.js'
import { notExternal } from './import.js'

export const getParametersForImport = defineOperation({
  name: 'GetParametersForImport',
  keyIdForms: 'idOrArn',
  usableIn: ['Enabled', 'Disabled', 'PendingImport'],
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
      { values },
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
