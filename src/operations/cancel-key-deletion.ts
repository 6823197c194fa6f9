// AWS KMS API Reference > CancelKeyDeletion: the key ends Disabled, not Enabled (PendingImport if
// it has no key material).
import { ALL_STATES, hasExpiredMaterial, transition, withoutMaterial } from '../keys/lifecycle.js'
import { defineOperation } from './define.js'
import { keyId } from './fields.js'

export const cancelKeyDeletion = defineOperation({
  name: 'CancelKeyDeletion',
  keyIdForms: 'idOrArn',
  usableIn: ALL_STATES,
  request: { KeyId: keyId },
  async run(ctx, req) {
    const { arn } = await ctx.updateKey(req.KeyId, {}, (record, keyArn) => {
      const state = transition('CancelKeyDeletion', keyArn, record.state)
      // Imported material deleted or expired during the window: the key has nothing to MAC with,
      // so it comes back PendingImport (it can be Enabled only by importing the same material).
      const current = hasExpiredMaterial(record, ctx.now) ? withoutMaterial(record) : record
      const { deletionDate: _dropped, pendingWindowDays: _window, ...rest } = current
      return { ...rest, state: current.material === undefined ? 'PendingImport' : state }
    })
    return { KeyId: arn }
  },
})
