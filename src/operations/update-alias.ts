// AWS KMS API Reference > UpdateAlias: the new target must be of the same key
// usage; the old target may be pending deletion, the new one may not.
import { aliasArn, keyArn } from '../keys/arn.js'

import { NotFoundException, ValidationException } from '../protocol/errors.js'
import { required } from '../protocol/validate.js'
import { ALL_STATES, MUTABLE_STATES } from '../keys/lifecycle.js'
import { defineOperation } from './define.js'
import { aliasName, keyIdShape } from './fields.js'

export const updateAlias = defineOperation({
  name: 'UpdateAlias',
  // The new target; the current target is checked in any state.
  keyIdForms: 'idOrArn',
  usableIn: MUTABLE_STATES,
  request: { AliasName: required(aliasName), TargetKeyId: required(keyIdShape) },
  async run(ctx, req) {
    // kms:UpdateAlias on the alias (identity policy), the current key and the new key (key policies).
    ctx.authorizeAccount('kms:UpdateAlias', aliasArn(ctx.partition, ctx.region, ctx.caller.accountId, req.AliasName))
    const alias = await ctx.records.alias(req.AliasName)
    if (!alias) {
      throw new NotFoundException(`Alias ${aliasArn(ctx.partition, ctx.region, ctx.caller.accountId, req.AliasName)} is not found.`)
    }
    const current = await ctx.useKey(keyArn(ctx.partition, ctx.region, alias.accountId, alias.keyId), {
      forms: 'idOrArn',
      usableIn: ALL_STATES,
    })
    const target = await ctx.useKey(req.TargetKeyId)
    if (target.record.accountId !== alias.accountId) {
      throw new NotFoundException(`Key '${target.arn}' does not exist`)
    }
    if (target.record.keyUsage !== current.record.keyUsage) {
      throw new ValidationException(
        `${req.AliasName} currently points at a key with usage ${current.record.keyUsage}; the new target ${target.arn} has usage ${target.record.keyUsage}.`,
      )
    }
    const updated = await ctx.records.pointAlias(alias, target.record.keyId, ctx.now)
    if (!updated) {
      throw new NotFoundException(`Alias ${aliasArn(ctx.partition, ctx.region, ctx.caller.accountId, req.AliasName)} is not found.`)
    }
    return {}
  },
})
