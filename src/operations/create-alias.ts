// AWS KMS API Reference > CreateAlias: unique per account and region, at most
// 50 per key, never on a key pending deletion.
import { LimitExceededException, AlreadyExistsException } from '../protocol/errors.js'
import { aliasArn } from '../keys/arn.js'
import { checkAliasName, MAX_ALIASES_PER_KEY } from '../keys/aliases.js'
import { MUTABLE_STATES } from '../keys/lifecycle.js'
import { required } from '../protocol/validate.js'
import { StoreConflictError } from '../store/store.js'
import { defineOperation } from './define.js'
import { aliasName, keyIdShape } from './fields.js'

export const createAlias = defineOperation({
  name: 'CreateAlias',
  keyIdForms: 'idOrArn',
  usableIn: MUTABLE_STATES,
  request: { AliasName: required(aliasName), TargetKeyId: required(keyIdShape) },
  async run(ctx, req) {
    checkAliasName(req.AliasName)
    // kms:CreateAlias is needed on the alias (identity policy) and on the key (key policy).
    ctx.authorizeAccount('kms:CreateAlias', aliasArn(ctx.partition, ctx.region, ctx.caller.accountId, req.AliasName))
    const key = await ctx.useKey(req.TargetKeyId)
    const { accountId, region } = key.record
    const usage = await ctx.records.aliasCount(key.record)
    if (usage >= MAX_ALIASES_PER_KEY) {
      // AWS's recorded text (test/fixtures/aws-texts.json).
      throw new LimitExceededException(`Aliases per key quota for this account in this region is ${MAX_ALIASES_PER_KEY}, current usage is ${usage}.`)
    }
    try {
      await ctx.records.createAlias(key.record, req.AliasName, ctx.now)
    } catch (err) {
      if (err instanceof StoreConflictError) {
        const arn = aliasArn(ctx.partition, region, accountId, req.AliasName)
        throw new AlreadyExistsException(`An alias with the name ${arn} already exists`)
      }
      throw err
    }
    return {}
  },
})
