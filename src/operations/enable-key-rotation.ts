// AWS KMS API Reference > EnableKeyRotation.
import { USABLE_IN } from '../keys/lifecycle.js'
import { int, optional } from '../protocol/validate.js'
import { defineOperation } from './define.js'
import { keyId } from './fields.js'
import { notRotatable } from './rotation.js'

export const enableKeyRotation = defineOperation({
  name: 'EnableKeyRotation',
  request: { KeyId: keyId, RotationPeriodInDays: optional(int({ min: 90, max: 2560 })) },
  async run(ctx, req) {
    const key = await ctx.useKey(req.KeyId, { forms: 'idOrArn', usableIn: USABLE_IN.Rotation })
    throw notRotatable(key.arn, key.record.keySpec)
  },
})
