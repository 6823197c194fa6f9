// AWS KMS API Reference > GenerateDataKeyWithoutPlaintext.
import { keyUsageRefusal } from './other-key-usages.js'

export const generateDataKeyWithoutPlaintext = keyUsageRefusal('GenerateDataKeyWithoutPlaintext')
