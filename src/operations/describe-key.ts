// AWS KMS API Reference > DescribeKey: works in every key state.
import { ALL_STATES } from '../keys/lifecycle.js'
import { keyMetadata } from '../keys/metadata.js'
import { defineOperation } from './define.js'
import { grantTokens, keyId } from './fields.js'

export const describeKey = defineOperation({
  name: 'DescribeKey',
  keyIdForms: 'any',
  usableIn: ALL_STATES,
  readOnly: true,
  crossAccount: true,
  request: { KeyId: keyId, GrantTokens: grantTokens },
  async run(ctx, req) {
    const key = await ctx.useKey(req.KeyId, { grantTokens: req.GrantTokens })
    const { record } = key
    const related = record.multiRegion ? await ctx.records.regionsOf(record) : undefined
    return { KeyMetadata: keyMetadata(record, key.arn, related?.filter((r) => !(r.state === 'PendingDeletion' && r.deletionDate !== undefined && r.deletionDate <= ctx.now))) }
  },
})
