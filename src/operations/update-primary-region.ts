// AWS KMS API Reference > UpdatePrimaryRegion.
import { keyPolicyOf } from '../keys/access.js'
import { keyArn } from '../keys/arn.js'
import { GrantIndex } from '../auth/grants.js'
import { KMSInvalidStateException, NotFoundException, ValidationException } from '../protocol/errors.js'
import { required } from '../protocol/validate.js'
import { accessDenied } from '../auth/authorize.js'
import { defineOperation } from './define.js'
import { keyId } from './fields.js'
import { regionName, assertPrimary } from './multi-region.js'

export const updatePrimaryRegion = defineOperation({
  name: 'UpdatePrimaryRegion',
  keyIdForms: 'idOrArn',
  usableIn: ['Enabled', 'Updating'],
  request: { KeyId: keyId, PrimaryRegion: required(regionName) },
  async run(ctx, req) {
    const values = new Map([['kms:primaryregion', [req.PrimaryRegion]]])
    const primary = await ctx.useKey(req.KeyId, { values })
    const { record } = primary
    assertPrimary(record, primary.arn)
    if (req.PrimaryRegion === record.region) {
      throw new ValidationException(`${primary.arn} is already the primary key in ${req.PrimaryRegion}.`)
    }
    const related = await ctx.records.regionsOf(record)
    const target = related.find((r) => r.region === req.PrimaryRegion)
    const targetArn = keyArn(ctx.partition, req.PrimaryRegion, record.accountId, record.keyId)
    if (!target) throw new NotFoundException(`Key '${targetArn}' does not exist`)
    if (target.state === 'PendingDeletion' || target.state === 'PendingReplicaDeletion') {
      throw new KMSInvalidStateException(`${targetArn} is pending deletion.`)
    }
    // The caller needs kms:UpdatePrimaryRegion on the replica too, by the replica's own key policy.
    const replica = { record: target, arn: targetArn, policy: keyPolicyOf(ctx.services.policies, target), grants: GrantIndex.EMPTY }
    if (!(await ctx.isAllowedByPolicy(replica, 'kms:UpdatePrimaryRegion', values))) {
      throw accessDenied(ctx.caller, 'kms:UpdatePrimaryRegion', targetArn, 'because no resource-based policy allows the kms:UpdatePrimaryRegion action')
    }
    for (const r of related) await ctx.rewriteKey(r, (current) => ({ ...current, primaryRegion: req.PrimaryRegion }))
    return {}
  },
})
