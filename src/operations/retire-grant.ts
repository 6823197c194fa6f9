// AWS KMS API Reference > RetireGrant.
import { grantIdOfToken, isGrantOf } from '../auth/grants.js'
import { rootArn } from '../auth/principals.js'
import { keyArn } from '../keys/arn.js'
import { InvalidGrantIdException, ValidationException } from '../protocol/errors.js'
import { optional, str } from '../protocol/validate.js'
import type { GrantRecord } from '../store/store.js'
import { accessDenied } from '../auth/authorize.js'
import { defineOperation } from './define.js'
import { dryRun, keyIdShape } from './fields.js'
import { grantId } from './grants.js'

const grantToken = str({ min: 1, max: 8192 })

export const retireGrant = defineOperation({
  name: 'RetireGrant',
  crossAccount: true,
  request: { GrantToken: optional(grantToken), KeyId: optional(keyIdShape), GrantId: optional(grantId), DryRun: dryRun },
  async run(ctx, req) {
    let grant: GrantRecord | undefined
    let arn: string
    if (req.GrantToken !== undefined) {
      const id = grantIdOfToken(req.GrantToken)
      grant = await ctx.records.grant(id)
      if (!grant) throw new InvalidGrantIdException(`Grant ${id} does not exist.`)
      arn = keyArn(ctx.partition, grant.region, grant.accountId, grant.keyId)
    } else if (req.KeyId !== undefined && req.GrantId !== undefined) {
      const key = await ctx.readKey(req.KeyId, 'idOrArn')
      arn = key.arn
      grant = await ctx.records.grant(req.GrantId)
      if (!grant || !isGrantOf(grant, key.record)) {
        throw new InvalidGrantIdException(`Grant ${req.GrantId} does not exist.`)
      }
    } else {
      throw new ValidationException('Either GrantToken, or both KeyId and GrantId, must be specified.')
    }
    ctx.noteKey(arn)
    // Who may retire (AWS KMS Developer Guide, Grants): the retiring principal, the grantee if the grant includes
    // RetireGrant, and the account that issued the grant.
    const caller = ctx.caller
    const callerRoot = rootArn(ctx.partition, caller.accountId)
    const mayRetire =
      grant.retiringPrincipal === caller.arn ||
      (grant.retiringPrincipal === callerRoot && caller.isRoot) ||
      (grant.granteePrincipal === caller.arn && grant.operations.includes('RetireGrant')) ||
      (caller.isRoot && grant.issuingAccount === caller.arn)
    if (!mayRetire) {
      throw accessDenied(caller, 'kms:RetireGrant', arn, 'because it is not a retiring principal of the grant')
    }
    if (req.DryRun === true) ctx.dryRunSucceeded()
    await ctx.records.deleteGrant(grant)
    return {}
  },
})
