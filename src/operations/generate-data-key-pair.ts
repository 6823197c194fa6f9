// AWS KMS API Reference > GenerateDataKeyPair.
import { dataKeyPairSpec, dryRun, encryptionContext, recipient } from './fields.js'
import { keyUsageRefusal } from './other-key-usages.js'

export const generateDataKeyPair = keyUsageRefusal('GenerateDataKeyPair', { EncryptionContext: encryptionContext, KeyPairSpec: dataKeyPairSpec, Recipient: recipient, DryRun: dryRun })
