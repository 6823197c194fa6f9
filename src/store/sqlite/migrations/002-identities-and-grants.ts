// Migration 002: IAM users (with their identity policy) and grants. A grant's `seq` orders
// ListGrants pages; grants go with their key.
export const sql = `
CREATE TABLE users (
  account_id  TEXT NOT NULL,
  user_name   TEXT NOT NULL,
  policy      TEXT,
  create_date INTEGER NOT NULL,
  PRIMARY KEY (account_id, user_name)
) WITHOUT ROWID;

CREATE TABLE grants (
  seq                INTEGER PRIMARY KEY AUTOINCREMENT,
  grant_id           TEXT NOT NULL UNIQUE,
  account_id         TEXT NOT NULL,
  region             TEXT NOT NULL,
  key_id             TEXT NOT NULL,
  name               TEXT,
  grantee            TEXT NOT NULL,
  retiring_principal TEXT,
  operations         TEXT NOT NULL,
  issuing_account    TEXT NOT NULL,
  creation_date      INTEGER NOT NULL,
  FOREIGN KEY (account_id, region, key_id) REFERENCES keys (account_id, region, key_id) ON DELETE CASCADE
);
CREATE INDEX grants_by_key ON grants (account_id, region, key_id, seq);
CREATE INDEX grants_by_retiring ON grants (retiring_principal, seq) WHERE retiring_principal IS NOT NULL;
`
