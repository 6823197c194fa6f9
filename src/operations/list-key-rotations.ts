// AWS KMS API Reference > ListKeyRotations.
import { ALL_STATES } from '../keys/lifecycle.js'
import { optional, str } from '../protocol/validate.js'
import { defineOperation } from './define.js'
import { keyId, limit, marker } from './fields.js'
import { notRotatable } from './rotation.js'

export const listKeyRotations = defineOperation({
  name: 'ListKeyRotations',
  keyIdForms: 'idOrArn',
  usableIn: ALL_STATES,
  readOnly: true,
  request: { KeyId: keyId, IncludeKeyMaterial: optional(str({ enum: ['ALL_KEY_MATERIAL', 'ROTATIONS_ONLY'] as const })), Limit: limit(1000), Marker: marker },
  async run(ctx, req) {
    const key = await ctx.useKey(req.KeyId)
    throw notRotatable(key.arn, key.record.keySpec)
  },
})
