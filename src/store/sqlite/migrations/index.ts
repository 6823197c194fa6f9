// The numbered migrations, applied in order at open.
import { sql as initial } from './001-initial.js'

export const MIGRATIONS: readonly { readonly version: number; readonly sql: string }[] = [{ version: 1, sql: initial }]
