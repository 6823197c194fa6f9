// AWS KMS API Reference > Verify.
import { required } from '../protocol/validate.js'
import { ciphertextBlob, dryRun, messageType, plaintext, signingAlgorithm } from './fields.js'
import { keyUsageRefusal } from './other-key-usages.js'

export const verify = keyUsageRefusal('Verify', {
  Message: required(plaintext),
  MessageType: messageType,
  Signature: required(ciphertextBlob),
  SigningAlgorithm: required(signingAlgorithm),
  DryRun: dryRun,
})
