// AWS KMS API Reference > UpdateKeyDescription.
import { MUTABLE_STATES } from '../keys/lifecycle.js'
import { required } from '../protocol/validate.js'
import { defineOperation } from './define.js'
import { description, keyId } from './fields.js'

export const updateKeyDescription = defineOperation({
  name: 'UpdateKeyDescription',
  keyIdForms: 'idOrArn',
  usableIn: MUTABLE_STATES,
  request: { KeyId: keyId, Description: required(description) },
  async run(ctx, req) {
    await ctx.updateKey(req.KeyId, {}, (record) =>
      record.description === req.Description ? record : { ...record, description: req.Description },
    )
    return {}
  },
})
