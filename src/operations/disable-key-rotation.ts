// AWS KMS API Reference > DisableKeyRotation.
import { ROTATION_STATES } from '../keys/lifecycle.js'
import { defineOperation } from './define.js'
import { keyId } from './fields.js'
import { notRotatable } from './rotation.js'

export const disableKeyRotation = defineOperation({
  name: 'DisableKeyRotation',
  keyIdForms: 'idOrArn',
  usableIn: ROTATION_STATES,
  request: { KeyId: keyId },
  async run(ctx, req) {
    const key = await ctx.useKey(req.KeyId)
    throw notRotatable(key.arn, key.record.keySpec)
  },
})
