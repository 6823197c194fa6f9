// AWS KMS API Reference > DeleteCustomKeyStore: there is no such store (see custom-key-stores.ts).
import { customKeyStoreId, noSuchStore } from './custom-key-stores.js'
import { defineOperation } from './define.js'

export const deleteCustomKeyStore = defineOperation({
  name: 'DeleteCustomKeyStore',
  request: { CustomKeyStoreId: customKeyStoreId },
  run(ctx, req) {
    ctx.authorizeAccount('kms:DeleteCustomKeyStore')
    throw noSuchStore(req.CustomKeyStoreId)
  },
})
