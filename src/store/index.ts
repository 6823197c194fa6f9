// Opens the configured store through the table of drivers by kind. The PostgreSQL driver is
// loaded only when it is used.
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

/** How each kind of store opens: the one table a third engine is added to. */
const DRIVERS: { readonly [K in StoreConfig['kind']]: (config: Extract<StoreConfig, { kind: K }>, watch: boolean) => Promise<Store> } = {
  sqlite: (config, watch) => Promise.resolve(openSqliteStore({ path: config.path, ...(watch ? {} : { pollIntervalMs: 0 }) })),
  // Loaded only when used: a SQLite deployment does not need pg.
  postgres: async (config, watch) => (await import('./postgres/index.js')).openPostgresStore({ url: config.url, listen: watch }),
}

export function openStore(config: StoreConfig, options: OpenStoreOptions = {}): Promise<Store> {
  const open = DRIVERS[config.kind] as (config: StoreConfig, watch: boolean) => Promise<Store>
  return open(config, options.watchChanges ?? true)
}

/** A description of the store for logs, without credentials. */
export function describeStore(config: StoreConfig): string {
  return config.kind === 'sqlite' ? `sqlite:${config.path}` : redactStoreUrl(config.url)
}
