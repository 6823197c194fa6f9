// AWS KMS API Reference > GenerateDataKeyPairWithoutPlaintext.
import { dataKeyPairSpec, dryRun, encryptionContext } from './fields.js'
import { keyUsageRefusal } from './other-key-usages.js'

export const generateDataKeyPairWithoutPlaintext = keyUsageRefusal('GenerateDataKeyPairWithoutPlaintext', { EncryptionContext: encryptionContext, KeyPairSpec: dataKeyPairSpec, DryRun: dryRun })
