// AWS KMS API Reference > GenerateDataKey.
import { keyUsageRefusal } from './other-key-usages.js'

export const generateDataKey = keyUsageRefusal('GenerateDataKey')
