// AWS KMS API Reference > ConnectCustomKeyStore: there is no such store (see custom-key-stores.ts).
import { customKeyStoreId, noSuchStore } from './custom-key-stores.js'
import { defineOperation } from './define.js'

export const connectCustomKeyStore = defineOperation({
  name: 'ConnectCustomKeyStore',
  request: { CustomKeyStoreId: customKeyStoreId },
  run(ctx, req) {
    ctx.authorizeAccount('kms:ConnectCustomKeyStore')
    throw noSuchStore(req.CustomKeyStoreId)
  },
})
