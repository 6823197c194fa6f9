// AWS KMS API Reference > UntagResource (reference §6.11): removing an absent tag is accepted.
import { USABLE_IN } from '../keys/lifecycle.js'
import { list, required, str } from '../protocol/validate.js'
import { defineOperation } from './define.js'
import { keyId } from './fields.js'

export const untagResource = defineOperation({
  name: 'UntagResource',
  request: { KeyId: keyId, TagKeys: required(list(str({ min: 1, max: 128 }))) },
  async run(ctx, req) {
    const removed = new Set(req.TagKeys)
    const values = new Map([['aws:tagkeys', req.TagKeys]])
    await ctx.updateKey(req.KeyId, { forms: 'idOrArn', usableIn: USABLE_IN.TagResource, values }, (record) => {
      const tags = record.tags.filter((t) => !removed.has(t.key))
      return tags.length === record.tags.length ? record : { ...record, tags }
    })
    return {}
  },
})
