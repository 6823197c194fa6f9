// AWS KMS API Reference > GetKeyPolicy.
import { ALL_STATES } from '../keys/lifecycle.js'
import { NotFoundException } from '../protocol/errors.js'
import { defineOperation } from './define.js'
import { keyId, policyName } from './fields.js'


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
