// AWS KMS API Reference > UntagResource: removing an absent tag is accepted.
import { MUTABLE_STATES } from '../keys/lifecycle.js'
import { list, required, str } from '../protocol/validate.js'
import { defineOperation } from './define.js'
import { keyId } from './fields.js'

export const untagResource = defineOperation({
  name: 'UntagResource',
  keyIdForms: 'idOrArn',
  usableIn: MUTABLE_STATES,
  request: { KeyId: keyId, TagKeys: required(list(str({ min: 1, max: 128 }))) },
  async run(ctx, req) {
    const removed = new Set(req.TagKeys)
    const values = new Map([['aws:tagkeys', req.TagKeys]])
    await ctx.updateKey(req.KeyId, { values }, (record) => {
      const tags = record.tags.filter((t) => !removed.has(t.key))
      return tags.length === record.tags.length ? record : { ...record, tags }
    })
    return {}
  },
})
