// AWS KMS API Reference > TagResource: replaces values of existing keys, adds new
// ones, at most 50 per key.
import { requestTagValues } from '../auth/context.js'
import { MUTABLE_STATES } from '../keys/lifecycle.js'
import { checkRequestTags, mergeTags } from '../keys/tags.js'
import { required } from '../protocol/validate.js'
import { defineOperation } from './define.js'
import { keyId, tagList } from './fields.js'

export const tagResource = defineOperation({
  name: 'TagResource',
  keyIdForms: 'idOrArn',
  usableIn: MUTABLE_STATES,
  request: { KeyId: keyId, Tags: required(tagList) },
  async run(ctx, req) {
    const added = checkRequestTags(req.Tags)
    const values = new Map<string, readonly string[]>()
    requestTagValues(req.Tags, values)
    await ctx.updateKey(req.KeyId, { values }, (record) => ({
      ...record,
      tags: mergeTags(record.tags, added),
    }))
    return {}
  },
})
