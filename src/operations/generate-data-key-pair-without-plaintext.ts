// AWS KMS API Reference > GenerateDataKeyPairWithoutPlaintext.
import { keyUsageRefusal } from './other-key-usages.js'

export const generateDataKeyPairWithoutPlaintext = keyUsageRefusal('GenerateDataKeyPairWithoutPlaintext')
