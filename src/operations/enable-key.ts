// AWS KMS API Reference > EnableKey: idempotent; Disabled -> Enabled.
import { ALL_STATES, transition } from '../keys/lifecycle.js'
import { defineOperation } from './define.js'
import { keyId } from './fields.js'

export const enableKey = defineOperation({
  name: 'EnableKey',
  keyIdForms: 'idOrArn',
  usableIn: ALL_STATES,
  request: { KeyId: keyId },
  async run(ctx, req) {
    await ctx.updateKey(req.KeyId, {}, (record, arn) => {
      const state = transition('EnableKey', arn, record.state)
      return state === record.state ? record : { ...record, state }
    })
    return {}
  },
})
