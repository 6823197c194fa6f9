// AWS KMS API Reference > PutKeyPolicy: one policy named `default`, checked for
// size, grammar, principals and lockout before it replaces the old one; allowed in every state.
import { checkLockout, checkPrincipals, compileKeyPolicy } from './key-policy.js'
import { ALL_STATES } from '../keys/lifecycle.js'
import { NotFoundException } from '../protocol/errors.js'
import { bool, optional, required } from '../protocol/validate.js'
import { defineOperation } from './define.js'
import { keyId, policy, policyName } from './fields.js'

export const putKeyPolicy = defineOperation({
  name: 'PutKeyPolicy',
  keyIdForms: 'idOrArn',
  usableIn: ALL_STATES,
  request: {
    KeyId: keyId,
    PolicyName: policyName,
    Policy: required(policy),
    BypassPolicyLockoutSafetyCheck: optional(bool()),
  },
  async run(ctx, req) {
    const compiled = compileKeyPolicy(ctx, req.Policy)
    const bypass = req.BypassPolicyLockoutSafetyCheck ?? false
    const values = new Map([['kms:bypasspolicylockoutsafetycheck', [String(bypass)]]])
    await ctx.updateKey(req.KeyId, { values }, async (record, arn) => {
      if ((req.PolicyName ?? 'default') !== 'default') throw new NotFoundException('No such policy exists')
      await checkPrincipals(ctx, compiled)
      checkLockout(ctx, compiled, record, arn, bypass)
      return record.policy === req.Policy ? record : { ...record, policy: req.Policy }
    })
    return {}
  },
})
