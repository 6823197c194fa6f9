// AWS KMS API Reference > DisconnectCustomKeyStore: there is no such store (see custom-key-stores.ts).
import { customKeyStoreId, noSuchStore } from './custom-key-stores.js'
import { defineOperation } from './define.js'

export const disconnectCustomKeyStore = defineOperation({
  name: 'DisconnectCustomKeyStore',
  request: { CustomKeyStoreId: customKeyStoreId },
  run(ctx, req) {
    ctx.authorizeAccount('kms:DisconnectCustomKeyStore')
    throw noSuchStore(req.CustomKeyStoreId)
  },
})
