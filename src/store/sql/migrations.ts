// The schema, as numbered migrations applied in order at open, written once for every engine. An
// engine supplies the words that differ (SchemaWords) and its own tables (SQLite's change log);
// the tables, columns, keys and indexes are the same everywhere, so one set of statements
// (store.ts) serves them all.

/** The column types and table options that differ between engines. */
export interface SchemaWords {
  /** Identifiers: compared and ordered bytewise (PostgreSQL needs COLLATE "C" for that). */
  readonly id: string
  /** Epoch milliseconds, versions and sequence numbers: 64-bit integers. */
  readonly int: string
  readonly blob: string
  /** Written after the closing parenthesis of a table keyed by its primary key alone. */
  readonly keyed: string
  /** An auto-numbered primary key column. */
  readonly serial: string
  /** The engine's own tables, by the migration that creates them (a change log, say). */
  readonly own?: Readonly<Record<number, string>>
}

export interface Migration {
  readonly version: number
  readonly sql: (w: SchemaWords) => string
}

export const MIGRATIONS: readonly Migration[] = [
  {
    // Keys, aliases and access keys.
    version: 1,
    sql: (w) => `
CREATE TABLE keys (
  account_id    ${w.id} NOT NULL,
  region        ${w.id} NOT NULL,
  key_id        ${w.id} NOT NULL,
  state         TEXT NOT NULL,
  deletion_date ${w.int},
  creation_date ${w.int} NOT NULL,
  version       ${w.int} NOT NULL,
  doc           TEXT NOT NULL,
  material      ${w.blob},
  PRIMARY KEY (account_id, region, key_id)
)${w.keyed};
CREATE INDEX keys_due ON keys (state, deletion_date) WHERE deletion_date IS NOT NULL;

CREATE TABLE aliases (
  account_id        ${w.id} NOT NULL,
  region            ${w.id} NOT NULL,
  alias_name        ${w.id} NOT NULL,
  key_id            ${w.id} NOT NULL,
  creation_date     ${w.int} NOT NULL,
  last_updated_date ${w.int} NOT NULL,
  PRIMARY KEY (account_id, region, alias_name),
  FOREIGN KEY (account_id, region, key_id) REFERENCES keys (account_id, region, key_id) ON DELETE CASCADE
)${w.keyed};
CREATE INDEX aliases_by_key ON aliases (account_id, region, key_id, alias_name);

CREATE TABLE access_keys (
  access_key_id ${w.id} PRIMARY KEY,
  account_id    ${w.id} NOT NULL,
  user_name     ${w.id},
  secret        ${w.blob} NOT NULL,
  status        TEXT NOT NULL,
  create_date   ${w.int} NOT NULL
)${w.keyed};
CREATE INDEX access_keys_by_account ON access_keys (account_id, access_key_id);
CREATE INDEX access_keys_by_user ON access_keys (account_id, user_name) WHERE user_name IS NOT NULL;
`,
  },
  {
    // IAM users (with their identity policy) and grants. A grant's `seq` orders ListGrants pages;
    // grants go with their key.
    version: 2,
    sql: (w) => `
CREATE TABLE users (
  account_id  ${w.id} NOT NULL,
  user_name   ${w.id} NOT NULL,
  policy      TEXT,
  create_date ${w.int} NOT NULL,
  PRIMARY KEY (account_id, user_name)
)${w.keyed};

CREATE TABLE grants (
  seq                ${w.serial},
  grant_id           ${w.id} NOT NULL UNIQUE,
  account_id         ${w.id} NOT NULL,
  region             ${w.id} NOT NULL,
  key_id             ${w.id} NOT NULL,
  name               ${w.id},
  grantee            ${w.id} NOT NULL,
  retiring_principal ${w.id},
  operations         TEXT NOT NULL,
  issuing_account    TEXT NOT NULL,
  creation_date      ${w.int} NOT NULL,
  FOREIGN KEY (account_id, region, key_id) REFERENCES keys (account_id, region, key_id) ON DELETE CASCADE
);
CREATE INDEX grants_by_key ON grants (account_id, region, key_id, seq);
CREATE INDEX grants_by_retiring ON grants (retiring_principal, seq) WHERE retiring_principal IS NOT NULL;
`,
  },
  {
    // The audit trail. `audit_anchor` holds the seq and hash of the last record removed by
    // retention, so the remaining chain still verifies from a known point; its single row is also
    // the lock that serializes appends across nodes.
    version: 3,
    sql: (w) => `
CREATE TABLE audit (
  seq        ${w.int} PRIMARY KEY,
  time       ${w.int} NOT NULL,
  event_id   TEXT NOT NULL,
  event_name ${w.id} NOT NULL,
  account_id ${w.id} NOT NULL,
  key_arn    ${w.id},
  principal  ${w.id} NOT NULL,
  outcome    TEXT NOT NULL,
  event      TEXT NOT NULL,
  prev_hash  TEXT NOT NULL,
  hash       TEXT NOT NULL
);
CREATE INDEX audit_by_time ON audit (time);
CREATE INDEX audit_by_key ON audit (key_arn, seq) WHERE key_arn IS NOT NULL;

CREATE TABLE audit_anchor (
  id   INTEGER PRIMARY KEY CHECK (id = 1),
  seq  ${w.int} NOT NULL,
  hash TEXT NOT NULL
);
INSERT INTO audit_anchor (id, seq, hash) VALUES (1, 0, '');
`,
  },
  {
    // When imported key material expires (for the expiry job), and an index to find the other
    // regions' copies of a multi-Region key.
    version: 4,
    sql: (w) => `
ALTER TABLE keys ADD COLUMN valid_to ${w.int};
CREATE INDEX keys_material_expiry ON keys (valid_to) WHERE valid_to IS NOT NULL;
CREATE INDEX keys_by_key_id ON keys (account_id, key_id);
`,
  },
  {
    // Service-wide settings: the current root of trust, the audit chain key, last key usage.
    version: 5,
    sql: (w) => `
CREATE TABLE settings (
  name  ${w.id} PRIMARY KEY,
  value TEXT NOT NULL
)${w.keyed};
`,
  },
  {
    // Leases, so that periodic jobs run on one node or worker at a time.
    version: 6,
    sql: (w) => `
CREATE TABLE leases (
  name       ${w.id} PRIMARY KEY,
  owner      TEXT NOT NULL,
  expires_at ${w.int} NOT NULL
)${w.keyed};
`,
  },
  {
    // How many grants each key has, kept with the grants: a key cache miss on a key without
    // grants then needs no grant query.
    version: 7,
    sql: (w) => `
ALTER TABLE keys ADD COLUMN grant_count ${w.int} NOT NULL DEFAULT 0;
UPDATE keys SET grant_count = (SELECT count(*) FROM grants g WHERE g.account_id = keys.account_id AND g.region = keys.region AND g.key_id = keys.key_id);
`,
  },
  {
    // How many keys each account has in each region, kept with the keys: the key quota is checked
    // on every CreateKey, and counting the keys themselves cost O(keys).
    version: 8,
    sql: (w) => `
CREATE TABLE key_counts (
  account_id ${w.id} NOT NULL,
  region     ${w.id} NOT NULL,
  n          ${w.int} NOT NULL,
  PRIMARY KEY (account_id, region)
)${w.keyed};
INSERT INTO key_counts (account_id, region, n) SELECT account_id, region, count(*) FROM keys GROUP BY account_id, region;
`,
  },
  {
    // IAM roles: their sessions are sealed tokens (auth/session-token.ts), so roles are all that
    // is stored.
    version: 9,
    sql: (w) => `
CREATE TABLE roles (
  account_id           ${w.id} NOT NULL,
  role_name            ${w.id} NOT NULL,
  role_id              ${w.id} NOT NULL,
  trust_policy         TEXT NOT NULL,
  policy               TEXT,
  max_session_seconds  ${w.int} NOT NULL,
  create_date          ${w.int} NOT NULL,
  sessions_valid_after ${w.int},
  PRIMARY KEY (account_id, role_name)
)${w.keyed};
`,
  },
  {
    // OpenID Connect providers that roles' trust policies may name (AssumeRoleWithWebIdentity).
    version: 10,
    sql: (w) => `
CREATE TABLE oidc_providers (
  account_id  ${w.id} NOT NULL,
  url         ${w.id} NOT NULL,
  client_ids  TEXT NOT NULL,
  jwks        TEXT,
  create_date ${w.int} NOT NULL,
  PRIMARY KEY (account_id, url)
)${w.keyed};
`,
  },
  {
    // LookupEvents reads the trail newest first by time, then seq (records of several workers
    // and nodes interleave in time): one index in that order, which also serves retention.
    version: 11,
    sql: () => `
CREATE INDEX audit_by_time_seq ON audit (time, seq);
DROP INDEX audit_by_time;
`,
  },
  {
    // The trail's index by key ARN served only `macaw audit query --key`, an admin command, and
    // cost every request dearly with many keys: each record landed on a different leaf page of
    // it, so each batch wrote a page per record to the WAL (about 27 µs of CPU per record with
    // 100,000 keys in use, against 11 µs for the whole insert without it). That query now reads the
    // trail in seq order and keeps the key's records.
    version: 12,
    sql: () => `
DROP INDEX audit_by_key;
`,
  },
  {
    // GetKeyLastUsage: each key's last use, the time in a column of its own, so that a flush stores
    // many keys in one statement that keeps the later use (settings held them as JSON: a read, a
    // parse and a write per key, about 53 µs each with 100,000 keys in use). Uses stored before
    // this table are still read from the settings `lastUsage.<key ARN>`.
    version: 13,
    sql: (w) => `
CREATE TABLE key_usage (
  arn  ${w.id} PRIMARY KEY,
  time ${w.int} NOT NULL,
  detail TEXT NOT NULL
)${w.keyed};
`,
  },
]

/** The newest schema version this build knows. */
export const SCHEMA_VERSION = MIGRATIONS.at(-1)?.version ?? 0

/**
 * The statements that bring a database from schema version `current` to SCHEMA_VERSION, one
 * entry per migration; refuses a database newer than this build.
 */
export function pendingMigrations(current: number, words: SchemaWords): { readonly version: number; readonly sql: string }[] {
  if (current > SCHEMA_VERSION) {
    throw new Error(`the database is at schema version ${current}, newer than this macaw knows (${SCHEMA_VERSION}); upgrade macaw`)
  }
  return MIGRATIONS.filter((m) => m.version > current).map((m) => ({ version: m.version, sql: m.sql(words) + (words.own?.[m.version] ?? '') }))
}

export const SCHEMA_TABLE = 'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)'
