// AWS KMS API Reference > UpdateKeyDescription (reference §6.9).
import { USABLE_IN } from '../keys/lifecycle.js'
import { required } from '../protocol/validate.js'
import { defineOperation } from './define.js'
import { description, keyId } from './fields.js'

export const updateKeyDescription = defineOperation({
  name: 'UpdateKeyDescription',
  request: { KeyId: keyId, Description: required(description) },
  async run(ctx, req) {
    await ctx.updateKey(req.KeyId, { forms: 'idOrArn', usableIn: USABLE_IN.UpdateKeyDescription }, (record) =>
      record.description === req.Description ? record : { ...record, description: req.Description },
    )
    return {}
  },
})
