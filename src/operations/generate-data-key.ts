// AWS KMS API Reference > GenerateDataKey.
import { dataKeySpec, dryRun, encryptionContext, numberOfBytes, recipient } from './fields.js'
import { keyUsageRefusal } from './other-key-usages.js'

export const generateDataKey = keyUsageRefusal('GenerateDataKey', { EncryptionContext: encryptionContext, NumberOfBytes: numberOfBytes, KeySpec: dataKeySpec, Recipient: recipient, DryRun: dryRun })
