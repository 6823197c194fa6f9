// AWS KMS API Reference > Encrypt.
import { required } from '../protocol/validate.js'
import { dryRun, encryptionAlgorithm, encryptionContext, plaintext } from './fields.js'
import { keyUsageRefusal } from './other-key-usages.js'

export const encrypt = keyUsageRefusal('Encrypt', { Plaintext: required(plaintext), EncryptionContext: encryptionContext, EncryptionAlgorithm: encryptionAlgorithm, DryRun: dryRun })
