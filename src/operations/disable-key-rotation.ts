// AWS KMS API Reference > DisableKeyRotation.
import { USABLE_IN } from '../keys/lifecycle.js'
import { defineOperation } from './define.js'
import { keyId } from './fields.js'
import { notRotatable } from './rotation.js'

export const disableKeyRotation = defineOperation({
  name: 'DisableKeyRotation',
  request: { KeyId: keyId },
  async run(ctx, req) {
    const key = await ctx.useKey(req.KeyId, { forms: 'idOrArn', usableIn: USABLE_IN.Rotation })
    throw notRotatable(key.arn, key.record.keySpec)
  },
})
