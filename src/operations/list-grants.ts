// AWS KMS API Reference > ListGrants.
import { ALL_STATES } from '../keys/lifecycle.js'
import { optional } from '../protocol/validate.js'
import { defineOperation } from './define.js'
import { keyId, limit, marker } from './fields.js'
import { decodeMarker, encodeMarker } from './markers.js'
import { principalId, grantId, grantEntry } from './grants.js'

export const listGrants = defineOperation({
  name: 'ListGrants',
  keyIdForms: 'idOrArn',
  usableIn: ALL_STATES,
  readOnly: true,
  crossAccount: true,
  request: {
    KeyId: keyId,
    Limit: limit(1000),
    Marker: marker,
    GrantId: optional(grantId),
    GranteePrincipal: optional(principalId),
  },
  async run(ctx, req) {
    const after = req.Marker === undefined ? undefined : decodeMarker(req.Marker, 'grant')
    const key = await ctx.useKey(req.KeyId)
    const page = await ctx.records.grants(key.record, {
      limit: req.Limit ?? 50,
      ...(after === undefined ? {} : { after }),
      ...(req.GrantId === undefined ? {} : { grantId: req.GrantId }),
      ...(req.GranteePrincipal === undefined ? {} : { granteePrincipal: req.GranteePrincipal }),
    })
    return {
      Grants: page.items.map((g) => grantEntry(ctx, g)),
      Truncated: page.next !== undefined,
      ...(page.next === undefined ? {} : { NextMarker: encodeMarker('grant', page.next) }),
    }
  },
})
