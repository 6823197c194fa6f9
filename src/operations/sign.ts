// AWS KMS API Reference > Sign.
import { keyUsageRefusal } from './other-key-usages.js'

export const sign = keyUsageRefusal('Sign')
