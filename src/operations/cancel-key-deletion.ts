// AWS KMS API Reference > CancelKeyDeletion (reference §6.8): the key ends Disabled, not Enabled.
import { ALL_STATES, transition } from '../keys/lifecycle.js'
import { defineOperation } from './define.js'
import { keyId } from './fields.js'

export const cancelKeyDeletion = defineOperation({
  name: 'CancelKeyDeletion',
  request: { KeyId: keyId },
  async run(ctx, req) {
    const { arn } = await ctx.updateKey(req.KeyId, { forms: 'idOrArn', usableIn: ALL_STATES }, (record, keyArn) => {
      const { deletionDate: _dropped, ...rest } = record
      return { ...rest, state: transition('CancelKeyDeletion', keyArn, record.state) }
    })
    return { KeyId: arn }
  },
})
