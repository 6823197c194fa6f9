// AWS KMS API Reference > CancelKeyDeletion: the key ends Disabled, not Enabled.
import { ALL_STATES, transition } from '../keys/lifecycle.js'
import { defineOperation } from './define.js'
import { keyId } from './fields.js'

export const cancelKeyDeletion = defineOperation({
  name: 'CancelKeyDeletion',
  keyIdForms: 'idOrArn',
  usableIn: ALL_STATES,
  request: { KeyId: keyId },
  async run(ctx, req) {
    const { arn } = await ctx.updateKey(req.KeyId, {}, (record, keyArn) => {
      const { deletionDate: _dropped, ...rest } = record
      return { ...rest, state: transition('CancelKeyDeletion', keyArn, record.state) }
    })
    return { KeyId: arn }
  },
})
