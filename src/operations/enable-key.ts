// AWS KMS API Reference > EnableKey (reference §6.6): idempotent; Disabled -> Enabled.
import { ALL_STATES, transition } from '../keys/lifecycle.js'
import { defineOperation } from './define.js'
import { keyId } from './fields.js'

export const enableKey = defineOperation({
  name: 'EnableKey',
  request: { KeyId: keyId },
  async run(ctx, req) {
    await ctx.updateKey(req.KeyId, { forms: 'idOrArn', usableIn: ALL_STATES }, (record, arn) => {
      const state = transition('EnableKey', arn, record.state)
      return state === record.state ? record : { ...record, state }
    })
    return {}
  },
})
