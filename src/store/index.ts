// Opens the configured store. The PostgreSQL driver is loaded only when it is used.
import { openSqliteStore } from './sqlite/index.js'
import type { Store } from './store.js'
import { redactStoreUrl } from './url.js'

export { redactStoreUrl }

export interface OpenStoreOptions {
  /** Admin commands do not need to watch for other processes' changes. */
  readonly watchChanges?: boolean
}

/** Which store, from `--store` (config.ts parses it). */
export type StoreConfig =
  | { readonly kind: 'sqlite'; readonly path: string }
  | { readonly kind: 'postgres'; readonly url: string }

export async function openStore(config: StoreConfig, options: OpenStoreOptions = {}): Promise<Store> {
  const watch = options.watchChanges ?? true
  switch (config.kind) {
    case 'sqlite':
      return openSqliteStore({ path: config.path, ...(watch ? {} : { pollIntervalMs: 0 }) })
    case 'postgres': {
      const { openPostgresStore } = await import('./postgres/index.js')
      return openPostgresStore({ url: config.url, listen: watch })
    }
  }
}

/** A description of the store for logs, without credentials. */
export function describeStore(config: StoreConfig): string {
  return config.kind === 'sqlite' ? `sqlite:${config.path}` : redactStoreUrl(config.url)
}
