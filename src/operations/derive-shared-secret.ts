// AWS KMS API Reference > DeriveSharedSecret.
import { keyUsageRefusal } from './other-key-usages.js'

export const deriveSharedSecret = keyUsageRefusal('DeriveSharedSecret')
