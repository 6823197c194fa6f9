// Migration 001: keys, aliases and access keys. Identifier columns use the "C" collation so that
// ordering and paging are bytewise, as in SQLite, whatever the database's default locale.
export const sql = `
CREATE TABLE keys (
  account_id    TEXT COLLATE "C" NOT NULL,
  region        TEXT COLLATE "C" NOT NULL,
  key_id        TEXT COLLATE "C" NOT NULL,
  state         TEXT NOT NULL,
  deletion_date BIGINT,
  creation_date BIGINT NOT NULL,
  version       BIGINT NOT NULL,
  doc           TEXT NOT NULL,
  material      BYTEA,
  PRIMARY KEY (account_id, region, key_id)
);
CREATE INDEX keys_due ON keys (state, deletion_date) WHERE deletion_date IS NOT NULL;

CREATE TABLE aliases (
  account_id        TEXT COLLATE "C" NOT NULL,
  region            TEXT COLLATE "C" NOT NULL,
  alias_name        TEXT COLLATE "C" NOT NULL,
  key_id            TEXT COLLATE "C" NOT NULL,
  creation_date     BIGINT NOT NULL,
  last_updated_date BIGINT NOT NULL,
  PRIMARY KEY (account_id, region, alias_name),
  FOREIGN KEY (account_id, region, key_id) REFERENCES keys (account_id, region, key_id) ON DELETE CASCADE
);
CREATE INDEX aliases_by_key ON aliases (account_id, region, key_id, alias_name);

CREATE TABLE access_keys (
  access_key_id TEXT COLLATE "C" PRIMARY KEY,
  account_id    TEXT COLLATE "C" NOT NULL,
  user_name     TEXT COLLATE "C",
  secret        BYTEA NOT NULL,
  status        TEXT NOT NULL,
  create_date   BIGINT NOT NULL
);
CREATE INDEX access_keys_by_account ON access_keys (account_id, access_key_id);
CREATE INDEX access_keys_by_user ON access_keys (account_id, user_name) WHERE user_name IS NOT NULL;
`
