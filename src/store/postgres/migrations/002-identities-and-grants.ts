// Migration 002: IAM users (with their identity policy) and grants. A grant's `seq` orders
// ListGrants pages; grants go with their key.
export const sql = `
CREATE TABLE users (
  account_id  TEXT COLLATE "C" NOT NULL,
  user_name   TEXT COLLATE "C" NOT NULL,
  policy      TEXT,
  create_date BIGINT NOT NULL,
  PRIMARY KEY (account_id, user_name)
);

CREATE TABLE grants (
  seq                BIGSERIAL PRIMARY KEY,
  grant_id           TEXT COLLATE "C" NOT NULL UNIQUE,
  account_id         TEXT COLLATE "C" NOT NULL,
  region             TEXT COLLATE "C" NOT NULL,
  key_id             TEXT COLLATE "C" NOT NULL,
  name               TEXT COLLATE "C",
  grantee            TEXT COLLATE "C" NOT NULL,
  retiring_principal TEXT COLLATE "C",
  operations         TEXT NOT NULL,
  issuing_account    TEXT NOT NULL,
  creation_date      BIGINT NOT NULL,
  FOREIGN KEY (account_id, region, key_id) REFERENCES keys (account_id, region, key_id) ON DELETE CASCADE
);
CREATE INDEX grants_by_key ON grants (account_id, region, key_id, seq);
CREATE INDEX grants_by_retiring ON grants (retiring_principal, seq) WHERE retiring_principal IS NOT NULL;
`
