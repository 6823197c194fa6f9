// AWS KMS API Reference > RotateKeyOnDemand.
import { USABLE_IN } from '../keys/lifecycle.js'
import { UnsupportedOperationException } from '../protocol/errors.js'
import { defineOperation } from './define.js'
import { keyId } from './fields.js'

export const rotateKeyOnDemand = defineOperation({
  name: 'RotateKeyOnDemand',
  request: { KeyId: keyId },
  async run(ctx, req) {
    await ctx.useKey(req.KeyId, { forms: 'idOrArn', usableIn: USABLE_IN.Rotation })
    // AWS (recorded for a non-symmetric key): UnsupportedOperationException with no message.
    throw new UnsupportedOperationException()
  },
})
