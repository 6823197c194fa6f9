// Migration 001: keys, aliases, access keys, and the change log that tells other processes and
// workers what to drop from their caches.
export const sql = `
CREATE TABLE keys (
  account_id    TEXT NOT NULL,
  region        TEXT NOT NULL,
  key_id        TEXT NOT NULL,
  state         TEXT NOT NULL,
  deletion_date INTEGER,
  creation_date INTEGER NOT NULL,
  version       INTEGER NOT NULL,
  doc           TEXT NOT NULL,
  material      BLOB,
  PRIMARY KEY (account_id, region, key_id)
) WITHOUT ROWID;
CREATE INDEX keys_due ON keys (state, deletion_date) WHERE deletion_date IS NOT NULL;

CREATE TABLE aliases (
  account_id        TEXT NOT NULL,
  region            TEXT NOT NULL,
  alias_name        TEXT NOT NULL,
  key_id            TEXT NOT NULL,
  creation_date     INTEGER NOT NULL,
  last_updated_date INTEGER NOT NULL,
  PRIMARY KEY (account_id, region, alias_name),
  FOREIGN KEY (account_id, region, key_id) REFERENCES keys (account_id, region, key_id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX aliases_by_key ON aliases (account_id, region, key_id);

CREATE TABLE access_keys (
  access_key_id TEXT PRIMARY KEY,
  account_id    TEXT NOT NULL,
  user_name     TEXT,
  secret        BLOB NOT NULL,
  status        TEXT NOT NULL,
  create_date   INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX access_keys_by_account ON access_keys (account_id);

CREATE TABLE changes (
  seq        INTEGER PRIMARY KEY AUTOINCREMENT,
  kind       TEXT NOT NULL,
  account_id TEXT,
  region     TEXT,
  id         TEXT NOT NULL,
  at         INTEGER NOT NULL
);
`
