// AWS KMS API Reference > GenerateDataKeyPair.
import { keyUsageRefusal } from './other-key-usages.js'

export const generateDataKeyPair = keyUsageRefusal('GenerateDataKeyPair')
