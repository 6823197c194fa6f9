// AWS KMS API Reference > DeleteImportedKeyMaterial.
import { withoutMaterial } from '../keys/lifecycle.js'
import { optional, str } from '../protocol/validate.js'
import { defineOperation } from './define.js'
import { keyId } from './fields.js'
import { notExternal } from './import.js'

export const deleteImportedKeyMaterial = defineOperation({
  name: 'DeleteImportedKeyMaterial',
  keyIdForms: 'idOrArn',
  usableIn: ['Enabled', 'Disabled', 'PendingDeletion', 'PendingImport'],
  request: { KeyId: keyId, KeyMaterialId: optional(str({ min: 64, max: 64, pattern: /^[a-f0-9]+$/ })) },
  async run(ctx, req) {
    const { arn } = await ctx.updateKey(
      req.KeyId,
      {},
      (record, keyArn) => {
        if (record.origin !== 'EXTERNAL') throw notExternal(keyArn, record)
        return record.material === undefined ? record : withoutMaterial(record)
      },
    )
    return { KeyId: arn }
  },
})
