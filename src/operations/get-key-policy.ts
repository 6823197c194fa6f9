// AWS KMS API Reference > GetKeyPolicy.
import { ALL_STATES } from '../keys/lifecycle.js'
import { NotFoundException } from '../protocol/errors.js'
import { optional, str } from '../protocol/validate.js'
import { defineOperation } from './define.js'
import { keyId } from './fields.js'

const policyName = optional(str({ min: 1, max: 128, pattern: /^[\w]+$/ }))

export const getKeyPolicy = defineOperation({
  name: 'GetKeyPolicy',
  keyIdForms: 'idOrArn',
  usableIn: ALL_STATES,
  readOnly: true,
  request: { KeyId: keyId, PolicyName: policyName },
  async run(ctx, req) {
    const key = await ctx.useKey(req.KeyId)
    if ((req.PolicyName ?? 'default') !== 'default') throw new NotFoundException('No such policy exists')
    return { Policy: key.record.policy, PolicyName: 'default' }
  },
})
