// AWS KMS API Reference > ListKeyPolicies.
import { ALL_STATES } from '../keys/lifecycle.js'
import { defineOperation } from './define.js'
import { keyId, limit, marker } from './fields.js'

export const listKeyPolicies = defineOperation({
  name: 'ListKeyPolicies',
  keyIdForms: 'idOrArn',
  usableIn: ALL_STATES,
  readOnly: true,
  request: { KeyId: keyId, Limit: limit(1000), Marker: marker },
  async run(ctx, req) {
    await ctx.useKey(req.KeyId)
    return { PolicyNames: ['default'], Truncated: false }
  },
})
