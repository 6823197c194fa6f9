// AWS KMS API Reference > GetPublicKey.
import { USABLE_IN } from '../keys/lifecycle.js'
import { UnsupportedOperationException } from '../protocol/errors.js'
import { defineOperation } from './define.js'
import { grantTokens, keyId } from './fields.js'

export const getPublicKey = defineOperation({
  name: 'GetPublicKey',
  crossAccount: true,
  readOnly: true,
  request: { KeyId: keyId, GrantTokens: grantTokens },
  async run(ctx, req) {
    const key = await ctx.useKey(req.KeyId, { forms: 'any', usableIn: USABLE_IN.OtherCrypto, grantTokens: req.GrantTokens })
    throw new UnsupportedOperationException(`${key.arn} key usage is ${key.record.keyUsage} which is not valid for GetPublicKey.`)
  },
})
