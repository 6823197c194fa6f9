// AWS KMS API Reference > DeriveSharedSecret.
import { blob, required, str } from '../protocol/validate.js'
import { dryRun, recipient } from './fields.js'
import { keyUsageRefusal } from './other-key-usages.js'

export const deriveSharedSecret = keyUsageRefusal('DeriveSharedSecret', {
  KeyAgreementAlgorithm: required(str({ enum: ['ECDH'] as const })),
  PublicKey: required(blob({ min: 1, max: 8192 })),
  Recipient: recipient,
  DryRun: dryRun,
})
