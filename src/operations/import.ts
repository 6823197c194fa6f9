// What the import operations for HMAC keys share (AWS KMS Developer Guide, Importing key material). The wrapping private key and
// the token digest are stored with the key (the private key sealed under the root of trust); only
// the latest token is valid.
import { UnsupportedOperationException } from '../protocol/errors.js'
import type { KeyRecord } from '../store/store.js'

export const notExternal = (arn: string, record: KeyRecord) =>
  new UnsupportedOperationException(`${arn} origin is ${record.origin} which is not valid for this operation.`)
