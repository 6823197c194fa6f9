// AWS KMS API Reference > DescribeCustomKeyStores: an empty list (see custom-key-stores.ts).
import { optional } from '../protocol/validate.js'
import { customKeyStoreIdShape, customKeyStoreName, noSuchStore } from './custom-key-stores.js'
import { defineOperation } from './define.js'
import { limit, marker } from './fields.js'

export const describeCustomKeyStores = defineOperation({
  name: 'DescribeCustomKeyStores',
  readOnly: true,
  request: { CustomKeyStoreId: optional(customKeyStoreIdShape), CustomKeyStoreName: optional(customKeyStoreName), Limit: limit(1000), Marker: marker },
  run(ctx, req) {
    ctx.authorizeAccount('kms:DescribeCustomKeyStores')
    if (req.CustomKeyStoreId !== undefined) throw noSuchStore(req.CustomKeyStoreId)
    if (req.CustomKeyStoreName !== undefined) throw noSuchStore(req.CustomKeyStoreName)
    return { CustomKeyStores: [], Truncated: false }
  },
})
