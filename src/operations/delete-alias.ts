// AWS KMS API Reference > DeleteAlias: allowed in every key state.
import { aliasArn, keyArn } from '../keys/arn.js'
import { ALL_STATES } from '../keys/lifecycle.js'
import { NotFoundException } from '../protocol/errors.js'
import { required } from '../protocol/validate.js'
import { defineOperation } from './define.js'
import { aliasName } from './fields.js'

export const deleteAlias = defineOperation({
  name: 'DeleteAlias',
  keyIdForms: 'idOrArn',
  usableIn: ALL_STATES,
  request: { AliasName: required(aliasName) },
  async run(ctx, req) {
    const notFound = () =>
      new NotFoundException(`Alias ${aliasArn(ctx.partition, ctx.region, ctx.caller.accountId, req.AliasName)} is not found.`)
    // kms:DeleteAlias on the alias (identity policy) and on its key (key policy).
    ctx.authorizeAccount('kms:DeleteAlias', aliasArn(ctx.partition, ctx.region, ctx.caller.accountId, req.AliasName))
    const alias = await ctx.records.alias(req.AliasName)
    if (!alias) throw notFound()
    await ctx.useKey(keyArn(ctx.partition, ctx.region, alias.accountId, alias.keyId))
    if (!(await ctx.records.deleteAlias(alias))) throw notFound()
    return {}
  },
})
