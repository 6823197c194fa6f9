// AWS KMS API Reference > Encrypt.
import { keyUsageRefusal } from './other-key-usages.js'

export const encrypt = keyUsageRefusal('Encrypt')
