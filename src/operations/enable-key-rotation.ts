// AWS KMS API Reference > EnableKeyRotation.
import { ROTATION_STATES } from '../keys/lifecycle.js'
import { int, optional } from '../protocol/validate.js'
import { defineOperation } from './define.js'
import { keyId } from './fields.js'
import { notRotatable } from './rotation.js'

export const enableKeyRotation = defineOperation({
  name: 'EnableKeyRotation',
  keyIdForms: 'idOrArn',
  usableIn: ROTATION_STATES,
  request: { KeyId: keyId, RotationPeriodInDays: optional(int({ min: 90, max: 2560 })) },
  async run(ctx, req) {
    const key = await ctx.useKey(req.KeyId)
    throw notRotatable(key.arn, key.record.keySpec)
  },
})
