// AWS KMS API Reference > TagResource (reference §6.11): replaces values of existing keys, adds new
// ones, at most 50 per key.
import { requestTagValues } from '../auth/context.js'
import { USABLE_IN } from '../keys/lifecycle.js'
import { checkRequestTags, mergeTags } from '../keys/tags.js'
import { required } from '../protocol/validate.js'
import { defineOperation } from './define.js'
import { keyId, tagList } from './fields.js'

export const tagResource = defineOperation({
  name: 'TagResource',
  request: { KeyId: keyId, Tags: required(tagList) },
  async run(ctx, req) {
    const added = checkRequestTags(req.Tags)
    const values = new Map<string, readonly string[]>()
    requestTagValues(req.Tags, values)
    await ctx.updateKey(req.KeyId, { forms: 'idOrArn', usableIn: USABLE_IN.TagResource, values }, (record) => ({
      ...record,
      tags: mergeTags(record.tags, added),
    }))
    return {}
  },
})
