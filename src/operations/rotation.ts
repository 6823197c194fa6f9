// What the key rotation operations share: HMAC keys do not rotate (AWS KMS Developer Guide, Rotating keys: HMAC keys do not rotate). The key is
// resolved and state-checked first, as AWS does, then the operation is refused.
import { UnsupportedOperationException } from '../protocol/errors.js'

export function notRotatable(arn: string, spec: string): UnsupportedOperationException {
  return new UnsupportedOperationException(`${arn} has key spec ${spec}, which does not support key rotation.`)
}
