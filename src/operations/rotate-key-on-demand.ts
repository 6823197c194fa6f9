// AWS KMS API Reference > RotateKeyOnDemand.
import { ROTATION_STATES } from '../keys/lifecycle.js'
import { UnsupportedOperationException } from '../protocol/errors.js'
import { defineOperation } from './define.js'
import { keyId } from './fields.js'

export const rotateKeyOnDemand = defineOperation({
  name: 'RotateKeyOnDemand',
  keyIdForms: 'idOrArn',
  usableIn: ROTATION_STATES,
  request: { KeyId: keyId },
  async run(ctx, req) {
    await ctx.useKey(req.KeyId)
    // AWS (recorded for a non-symmetric key): UnsupportedOperationException with no message.
    throw new UnsupportedOperationException()
  },
})
