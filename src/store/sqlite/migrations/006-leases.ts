// Migration 006: leases, so that periodic jobs run on one node or worker at a time.
export const sql = `
CREATE TABLE leases (
  name       TEXT PRIMARY KEY,
  owner      TEXT NOT NULL,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;
`
