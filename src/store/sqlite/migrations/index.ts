// The numbered migrations, applied in order at open.
import { sql as initial } from './001-initial.js'
import { sql as identitiesAndGrants } from './002-identities-and-grants.js'
import { sql as audit } from './003-audit.js'
import { sql as importAndMultiRegion } from './004-import-and-multi-region.js'
import { sql as settings } from './005-settings.js'
import { sql as leases } from './006-leases.js'

export const MIGRATIONS: readonly { readonly version: number; readonly sql: string }[] = [
  { version: 1, sql: initial },
  { version: 2, sql: identitiesAndGrants },
  { version: 3, sql: audit },
  { version: 4, sql: importAndMultiRegion },
  { version: 5, sql: settings },
  { version: 6, sql: leases },
]
