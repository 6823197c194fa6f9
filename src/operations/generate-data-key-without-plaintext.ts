// AWS KMS API Reference > GenerateDataKeyWithoutPlaintext.
import { dataKeySpec, dryRun, encryptionContext, numberOfBytes } from './fields.js'
import { keyUsageRefusal } from './other-key-usages.js'

export const generateDataKeyWithoutPlaintext = keyUsageRefusal('GenerateDataKeyWithoutPlaintext', { EncryptionContext: encryptionContext, NumberOfBytes: numberOfBytes, KeySpec: dataKeySpec, DryRun: dryRun })
