// AWS KMS API Reference > ListKeys: keys of the caller's account and region in
// every state until deleted, in a stable order, with opaque markers.
import { keyArn } from '../keys/arn.js'
import { defineOperation } from './define.js'
import { limit, marker } from './fields.js'
import { decodeMarker, encodeMarker } from './markers.js'

export const listKeys = defineOperation({
  name: 'ListKeys',
  readOnly: true,
  request: { Limit: limit(1000), Marker: marker },
  async run(ctx, req) {
    ctx.authorizeAccount('kms:ListKeys')
    const after = req.Marker === undefined ? undefined : decodeMarker(req.Marker, 'key')
    const page = await ctx.records.listKeys(after, req.Limit ?? 100)
    const keys = page.items
      .filter((k) => !(k.state === 'PendingDeletion' && k.deletionDate !== undefined && k.deletionDate <= ctx.now))
      .map((k) => ({ KeyId: k.keyId, KeyArn: keyArn(ctx.partition, k.region, k.accountId, k.keyId) }))
    return page.next === undefined
      ? { Keys: keys, Truncated: false }
      : { Keys: keys, NextMarker: encodeMarker('key', page.next), Truncated: true }
  },
})
