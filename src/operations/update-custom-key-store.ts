// AWS KMS API Reference > UpdateCustomKeyStore: there is no such store (see custom-key-stores.ts).
import { optional } from '../protocol/validate.js'
import { customKeyStoreId, customKeyStoreName, noSuchStore } from './custom-key-stores.js'
import { defineOperation } from './define.js'
import { xksMembers } from './xks-fields.js'

export const updateCustomKeyStore = defineOperation({
  name: 'UpdateCustomKeyStore',
  request: { CustomKeyStoreId: customKeyStoreId, NewCustomKeyStoreName: optional(customKeyStoreName), ...xksMembers },
  run(ctx, req) {
    ctx.authorizeAccount('kms:UpdateCustomKeyStore')
    throw noSuchStore(req.CustomKeyStoreId)
  },
})
