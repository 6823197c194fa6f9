// AWS KMS API Reference > DisableKey (reference §6.6): idempotent; Enabled -> Disabled.
import { ALL_STATES, transition } from '../keys/lifecycle.js'
import { defineOperation } from './define.js'
import { keyId } from './fields.js'

export const disableKey = defineOperation({
  name: 'DisableKey',
  request: { KeyId: keyId },
  async run(ctx, req) {
    await ctx.updateKey(req.KeyId, { forms: 'idOrArn', usableIn: ALL_STATES }, (record, arn) => {
      const state = transition('DisableKey', arn, record.state)
      return state === record.state ? record : { ...record, state }
    })
    return {}
  },
})
