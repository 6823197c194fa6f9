// The PostgreSQL store (issue 5): not implemented yet.
import type { Store } from '../store.js'

export interface PostgresStoreOptions {
  readonly url: string
  /** LISTEN for other nodes' changes (servers); admin commands pass false. */
  readonly listen: boolean
}

export function openPostgresStore(options: PostgresStoreOptions): Promise<Store> {
  return Promise.reject(new Error(`the PostgreSQL store is not available yet (${options.url.replace(/\/\/[^@]*@/, '//')})`))
}
