// AWS KMS API Reference > RevokeGrant.
import { isGrantOf } from '../auth/grants.js'
import { ALL_STATES } from '../keys/lifecycle.js'
import { InvalidGrantIdException } from '../protocol/errors.js'
import { required } from '../protocol/validate.js'
import { defineOperation } from './define.js'
import { dryRun, keyId } from './fields.js'
import { grantId } from './grants.js'

export const revokeGrant = defineOperation({
  name: 'RevokeGrant',
  keyIdForms: 'idOrArn',
  usableIn: ALL_STATES,
  crossAccount: true,
  request: { KeyId: keyId, GrantId: required(grantId), DryRun: dryRun },
  async run(ctx, req) {
    const key = await ctx.useKey(req.KeyId)
    const grant = await ctx.records.grant(req.GrantId)
    if (!grant || !isGrantOf(grant, key.record)) {
      throw new InvalidGrantIdException(`Grant ${req.GrantId} does not exist.`)
    }
    if (req.DryRun === true) ctx.dryRunSucceeded()
    await ctx.records.deleteGrant(grant)
    return {}
  },
})
