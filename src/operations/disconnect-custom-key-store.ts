// AWS KMS API Reference > DisconnectCustomKeyStore: there is no such store (see custom-key-stores.ts).
import { onNoStore } from './custom-key-stores.js'

export const disconnectCustomKeyStore = onNoStore('DisconnectCustomKeyStore')
