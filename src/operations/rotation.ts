// AWS KMS API Reference > EnableKeyRotation, DisableKeyRotation, GetKeyRotationStatus,
// RotateKeyOnDemand, ListKeyRotations (reference §6.16): HMAC keys do not rotate. The key is
// resolved and state-checked first, as AWS does, then the operation is refused.
import { USABLE_IN } from '../keys/lifecycle.js'
import { UnsupportedOperationException } from '../protocol/errors.js'
import { int, optional } from '../protocol/validate.js'
import { defineOperation } from './define.js'
import { keyId, limit, marker } from './fields.js'

function notRotatable(arn: string, spec: string): UnsupportedOperationException {
  return new UnsupportedOperationException(`${arn} has key spec ${spec}, which does not support key rotation.`)
}

export const enableKeyRotation = defineOperation({
  name: 'EnableKeyRotation',
  request: { KeyId: keyId, RotationPeriodInDays: optional(int({ min: 90, max: 2560 })) },
  async run(ctx, req) {
    const key = await ctx.useKey(req.KeyId, { forms: 'idOrArn', usableIn: USABLE_IN.Rotation })
    throw notRotatable(key.arn, key.record.keySpec)
  },
})

export const disableKeyRotation = defineOperation({
  name: 'DisableKeyRotation',
  request: { KeyId: keyId },
  async run(ctx, req) {
    const key = await ctx.useKey(req.KeyId, { forms: 'idOrArn', usableIn: USABLE_IN.Rotation })
    throw notRotatable(key.arn, key.record.keySpec)
  },
})

export const rotateKeyOnDemand = defineOperation({
  name: 'RotateKeyOnDemand',
  request: { KeyId: keyId },
  async run(ctx, req) {
    await ctx.useKey(req.KeyId, { forms: 'idOrArn', usableIn: USABLE_IN.Rotation })
    // AWS (recorded for a non-symmetric key): UnsupportedOperationException with no message.
    throw new UnsupportedOperationException()
  },
})

export const listKeyRotations = defineOperation({
  name: 'ListKeyRotations',
  readOnly: true,
  request: { KeyId: keyId, Limit: limit(1000), Marker: marker },
  async run(ctx, req) {
    const key = await ctx.useKey(req.KeyId, { forms: 'idOrArn', usableIn: USABLE_IN.AnyState })
    throw notRotatable(key.arn, key.record.keySpec)
  },
})

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
