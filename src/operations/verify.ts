// AWS KMS API Reference > Verify.
import { keyUsageRefusal } from './other-key-usages.js'

export const verify = keyUsageRefusal('Verify')
