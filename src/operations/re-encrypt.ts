// AWS KMS API Reference > ReEncrypt.
import { CRYPTO_STATES } from '../keys/lifecycle.js'
import { IncorrectKeyException } from '../protocol/errors.js'
import { optional } from '../protocol/validate.js'
import { defineOperation } from './define.js'
import { grantTokens, keyId, keyIdShape } from './fields.js'
import { refuse } from './other-key-usages.js'

export const reEncrypt = defineOperation({
  name: 'ReEncrypt',
  keyIdForms: 'any',
  usableIn: CRYPTO_STATES,
  crossAccount: true,
  request: { DestinationKeyId: keyId, SourceKeyId: optional(keyIdShape), GrantTokens: grantTokens },
  async run(ctx, req) {
    if (req.SourceKeyId !== undefined) {
      await ctx.useKey(req.SourceKeyId, { grantTokens: req.GrantTokens, action: 'kms:ReEncryptFrom' })
      throw new IncorrectKeyException('The key ID in the request does not identify a CMK that can perform this operation.')
    }
    return refuse(ctx, req.DestinationKeyId, 'ReEncrypt', req.GrantTokens)
  },
})
