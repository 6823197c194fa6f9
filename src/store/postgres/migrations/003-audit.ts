// Migration 003: the audit trail. `audit_anchor` holds the seq and hash of the last record removed
// by retention, so the remaining chain still verifies from a known point; its single row is also
// the lock that serializes appends across nodes.
export const sql = `
CREATE TABLE audit (
  seq        BIGINT PRIMARY KEY,
  time       BIGINT NOT NULL,
  event_id   TEXT NOT NULL,
  event_name TEXT COLLATE "C" NOT NULL,
  account_id TEXT COLLATE "C" NOT NULL,
  key_arn    TEXT COLLATE "C",
  principal  TEXT COLLATE "C" NOT NULL,
  outcome    TEXT NOT NULL,
  event      TEXT NOT NULL,
  prev_hash  TEXT NOT NULL,
  hash       TEXT NOT NULL
);
CREATE INDEX audit_by_time ON audit (time);
CREATE INDEX audit_by_key ON audit (key_arn, seq) WHERE key_arn IS NOT NULL;

CREATE TABLE audit_anchor (
  id   INTEGER PRIMARY KEY CHECK (id = 1),
  seq  BIGINT NOT NULL,
  hash TEXT NOT NULL
);
INSERT INTO audit_anchor (id, seq, hash) VALUES (1, 0, '');
`
