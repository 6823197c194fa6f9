// AWS KMS API Reference > ListResourceTags: sorted by tag key; Limit clamped to
// the documented 50.
import { ALL_STATES } from '../keys/lifecycle.js'
import { wireTags } from '../keys/tags.js'
import { defineOperation } from './define.js'
import { keyId, limit, marker } from './fields.js'
import { decodeMarker, encodeMarker } from './markers.js'

export const listResourceTags = defineOperation({
  name: 'ListResourceTags',
  keyIdForms: 'idOrArn',
  usableIn: ALL_STATES,
  readOnly: true,
  request: { KeyId: keyId, Limit: limit(1000), Marker: marker },
  async run(ctx, req) {
    const key = await ctx.useKey(req.KeyId)
    const after = req.Marker === undefined ? undefined : decodeMarker(req.Marker, 'tag')
    const max = Math.min(req.Limit ?? 50, 50)
    const rest = after === undefined ? key.record.tags : key.record.tags.filter((t) => t.key > after)
    const page = rest.slice(0, max)
    const last = page.at(-1)
    return rest.length > max && last
      ? { Tags: wireTags(page), NextMarker: encodeMarker('tag', last.key), Truncated: true }
      : { Tags: wireTags(page), Truncated: false }
  },
})
