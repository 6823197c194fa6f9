// What the custom key store operations share. HMAC keys cannot live in custom key stores (AWS KMS
// Developer Guide, HMAC keys), and this service has none: DescribeCustomKeyStores lists none, and
// every operation that names a store or a cluster answers the modeled error for one that does not
// exist, instead of UnknownOperationException, which no SDK models. The messages are ours.
import { CustomKeyStoreNotFoundException } from '../protocol/errors.js'
import { required, str } from '../protocol/validate.js'
import { defineOperation, type Operation } from './define.js'

export const customKeyStoreIdShape = str({ min: 1, max: 64 })
export const customKeyStoreId = required(customKeyStoreIdShape)
export const customKeyStoreName = str({ min: 1, max: 256 })

export function noSuchStore(what: string): CustomKeyStoreNotFoundException {
  return new CustomKeyStoreNotFoundException(`Custom key store ${what} does not exist.`)
}

/** An operation on one custom key store by id (Delete, Connect, Disconnect): there is none. */
export function onNoStore(name: string): Operation {
  return defineOperation({
    name,
    request: { CustomKeyStoreId: customKeyStoreId },
    run(ctx, req) {
      ctx.authorizeAccount(`kms:${name}`)
      throw noSuchStore(req.CustomKeyStoreId)
    },
  })
}
