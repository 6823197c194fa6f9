// Migration 005: service-wide settings, e.g. the current root of trust and the roots still in use.
export const sql = `
CREATE TABLE settings (
  name  TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
`
