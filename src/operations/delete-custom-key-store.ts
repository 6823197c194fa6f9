// AWS KMS API Reference > DeleteCustomKeyStore: there is no such store (see custom-key-stores.ts).
import { onNoStore } from './custom-key-stores.js'

export const deleteCustomKeyStore = onNoStore('DeleteCustomKeyStore')
