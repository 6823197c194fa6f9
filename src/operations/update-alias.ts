// AWS KMS API Reference > UpdateAlias (reference §6.10): the new target must be of the same key
// usage; the old target may be pending deletion, the new one may not.
import { aliasArn, keyArn } from '../keys/arn.js'
import { USABLE_IN } from '../keys/lifecycle.js'
import { NotFoundException, ValidationException } from '../protocol/errors.js'
import { required } from '../protocol/validate.js'
import { defineOperation } from './define.js'
import { aliasName, keyIdShape } from './fields.js'

export const updateAlias = defineOperation({
  name: 'UpdateAlias',
  request: { AliasName: required(aliasName), TargetKeyId: required(keyIdShape) },
  async run(ctx, req) {
    const store = ctx.services.store
    // kms:UpdateAlias on the alias (identity policy), the current key and the new key (key policies).
    ctx.authorizeAccount('kms:UpdateAlias', aliasArn(ctx.partition, ctx.region, ctx.caller.accountId, req.AliasName))
    const alias = await store.getAlias(ctx.caller.accountId, ctx.region, req.AliasName)
    if (!alias) {
      throw new NotFoundException(`Alias ${aliasArn(ctx.partition, ctx.region, ctx.caller.accountId, req.AliasName)} is not found.`)
    }
    const current = await ctx.useKey(keyArn(ctx.partition, ctx.region, alias.accountId, alias.keyId), {
      forms: 'idOrArn',
      usableIn: USABLE_IN.AnyState,
    })
    const target = await ctx.useKey(req.TargetKeyId, { forms: 'idOrArn', usableIn: USABLE_IN.CreateAlias })
    if (target.record.accountId !== alias.accountId) {
      throw new NotFoundException(`Key '${target.arn}' does not exist`)
    }
    if (target.record.keyUsage !== current.record.keyUsage) {
      throw new ValidationException(
        `${req.AliasName} currently points at a key with usage ${current.record.keyUsage}; the new target ${target.arn} has usage ${target.record.keyUsage}.`,
      )
    }
    const updated = await store.updateAlias({ ...alias, keyId: target.record.keyId, lastUpdatedDate: ctx.now })
    if (!updated) {
      throw new NotFoundException(`Alias ${aliasArn(ctx.partition, ctx.region, ctx.caller.accountId, req.AliasName)} is not found.`)
    }
    return {}
  },
})
