// AWS KMS API Reference > GetPublicKey.
import { CRYPTO_STATES } from '../keys/lifecycle.js'
import { UnsupportedOperationException } from '../protocol/errors.js'
import { defineOperation } from './define.js'
import { grantTokens, keyId } from './fields.js'

export const getPublicKey = defineOperation({
  name: 'GetPublicKey',
  keyIdForms: 'any',
  usableIn: CRYPTO_STATES,
  crossAccount: true,
  readOnly: true,
  request: { KeyId: keyId, GrantTokens: grantTokens },
  async run(ctx, req) {
    const key = await ctx.useKey(req.KeyId, { grantTokens: req.GrantTokens })
    throw new UnsupportedOperationException(`${key.arn} key usage is ${key.record.keyUsage} which is not valid for GetPublicKey.`)
  },
})
