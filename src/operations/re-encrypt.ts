// AWS KMS API Reference > ReEncrypt.
import { CRYPTO_STATES } from '../keys/lifecycle.js'
import { IncorrectKeyException } from '../protocol/errors.js'
import { optional } from '../protocol/validate.js'
import { defineOperation } from './define.js'
import { ciphertextBlob, dryRun, dryRunModifiers, encryptionAlgorithm, encryptionContext, grantTokens, keyId, keyIdShape } from './fields.js'
import { refuse } from './other-key-usages.js'

export const reEncrypt = defineOperation({
  name: 'ReEncrypt',
  keyIdForms: 'any',
  usableIn: CRYPTO_STATES,
  crossAccount: true,
  request: {
    CiphertextBlob: optional(ciphertextBlob),
    SourceEncryptionContext: encryptionContext,
    SourceKeyId: optional(keyIdShape),
    DestinationKeyId: keyId,
    DestinationEncryptionContext: encryptionContext,
    SourceEncryptionAlgorithm: encryptionAlgorithm,
    DestinationEncryptionAlgorithm: encryptionAlgorithm,
    GrantTokens: grantTokens,
    DryRun: dryRun,
    DryRunModifiers: dryRunModifiers,
  },
  async run(ctx, req) {
    if (req.SourceKeyId !== undefined) {
      await ctx.useKey(req.SourceKeyId, { grantTokens: req.GrantTokens, action: 'kms:ReEncryptFrom' })
      throw new IncorrectKeyException('The key ID in the request does not identify a CMK that can perform this operation.')
    }
    return refuse(ctx, req.DestinationKeyId, 'ReEncrypt', req.GrantTokens)
  },
})
