// AWS KMS API Reference > ConnectCustomKeyStore: there is no such store (see custom-key-stores.ts).
import { onNoStore } from './custom-key-stores.js'

export const connectCustomKeyStore = onNoStore('ConnectCustomKeyStore')
