// AWS KMS API Reference > ListAliases: the account's aliases in name order,
// optionally those of one key; Limit is clamped to the documented 100.
import { aliasArn } from '../keys/arn.js'
import { epochSeconds } from '../keys/metadata.js'
import { ALL_STATES } from '../keys/lifecycle.js'
import { optional } from '../protocol/validate.js'
import { defineOperation } from './define.js'
import { keyIdShape, limit, marker } from './fields.js'
import { decodeMarker, encodeMarker } from './markers.js'

export const listAliases = defineOperation({
  name: 'ListAliases',
  keyIdForms: 'idOrArn',
  usableIn: ALL_STATES,
  readOnly: true,
  request: { KeyId: optional(keyIdShape), Limit: limit(1000), Marker: marker },
  async run(ctx, req) {
    ctx.authorizeAccount('kms:ListAliases')
    let keyId: string | undefined
    if (req.KeyId !== undefined) {
      const key = await ctx.useKey(req.KeyId, { action: 'kms:ListAliases' })
      keyId = key.record.keyId
    }
    const after = req.Marker === undefined ? undefined : decodeMarker(req.Marker, 'alias')
    const page = await ctx.records.aliases({
      ...(keyId === undefined ? {} : { keyId }),
      ...(after === undefined ? {} : { after }),
      limit: Math.min(req.Limit ?? 50, 100),
    })
    const aliases = page.items.map((a) => ({
      AliasName: a.aliasName,
      AliasArn: aliasArn(ctx.partition, a.region, a.accountId, a.aliasName),
      TargetKeyId: a.keyId,
      CreationDate: epochSeconds(a.creationDate),
      LastUpdatedDate: epochSeconds(a.lastUpdatedDate),
    }))
    return page.next === undefined
      ? { Aliases: aliases, Truncated: false }
      : { Aliases: aliases, NextMarker: encodeMarker('alias', page.next), Truncated: true }
  },
})
