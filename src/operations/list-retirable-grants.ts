// AWS KMS API Reference > ListRetirableGrants.
import { required } from '../protocol/validate.js'
import { accessDenied } from '../auth/authorize.js'
import { defineOperation } from './define.js'
import { limit, marker } from './fields.js'
import { decodeMarker, encodeMarker } from './markers.js'
import { principalId, checkPrincipal, grantEntry } from './grants.js'

export const listRetirableGrants = defineOperation({
  name: 'ListRetirableGrants',
  readOnly: true,
  request: { RetiringPrincipal: required(principalId), Limit: limit(1000), Marker: marker },
  async run(ctx, req) {
    checkPrincipal(req.RetiringPrincipal, 'RetiringPrincipal')
    const after = req.Marker === undefined ? undefined : decodeMarker(req.Marker, 'grant')
    ctx.authorizeAccount('kms:ListRetirableGrants')
    // AWS: the retiring principal must be in the caller's account; another account's grants
    // (their key ARNs, grantees and operations) are not the caller's to read.
    if (req.RetiringPrincipal.split(':')[4] !== ctx.caller.accountId) {
      throw accessDenied(ctx.caller, 'kms:ListRetirableGrants', undefined, 'for a retiring principal in another account')
    }
    const page = await ctx.records.retirableGrants(req.RetiringPrincipal, after, req.Limit ?? 50)
    return {
      Grants: page.items.map((g) => grantEntry(ctx, g)),
      Truncated: page.next !== undefined,
      ...(page.next === undefined ? {} : { NextMarker: encodeMarker('grant', page.next) }),
    }
  },
})
