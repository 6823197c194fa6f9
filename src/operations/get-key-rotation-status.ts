// AWS KMS API Reference > GetKeyRotationStatus.
import { USABLE_IN } from '../keys/lifecycle.js'
import { defineOperation } from './define.js'
import { keyId } from './fields.js'

export const getKeyRotationStatus = defineOperation({
  name: 'GetKeyRotationStatus',
  readOnly: true,
  crossAccount: true,
  request: { KeyId: keyId },
  async run(ctx, req) {
    const key = await ctx.useKey(req.KeyId, { forms: 'idOrArn', usableIn: USABLE_IN.AnyState })
    // AWS: for HMAC keys "KeyRotationEnabled will always be false".
    return { KeyId: key.arn, KeyRotationEnabled: false }
  },
})
