// AWS KMS API Reference > ListKeyPolicies.
import { USABLE_IN } from '../keys/lifecycle.js'
import { defineOperation } from './define.js'
import { keyId, limit, marker } from './fields.js'

export const listKeyPolicies = defineOperation({
  name: 'ListKeyPolicies',
  readOnly: true,
  request: { KeyId: keyId, Limit: limit(1000), Marker: marker },
  async run(ctx, req) {
    await ctx.useKey(req.KeyId, { forms: 'idOrArn', usableIn: USABLE_IN.AnyState })
    return { PolicyNames: ['default'], Truncated: false }
  },
})
