// AWS KMS API Reference > GetKeyRotationStatus.
import { ALL_STATES } from '../keys/lifecycle.js'
import { defineOperation } from './define.js'
import { keyId } from './fields.js'

export const getKeyRotationStatus = defineOperation({
  name: 'GetKeyRotationStatus',
  keyIdForms: 'idOrArn',
  usableIn: ALL_STATES,
  readOnly: true,
  crossAccount: true,
  request: { KeyId: keyId },
  async run(ctx, req) {
    const key = await ctx.useKey(req.KeyId)
    // AWS: for HMAC keys "KeyRotationEnabled will always be false".
    return { KeyId: key.arn, KeyRotationEnabled: false }
  },
})
