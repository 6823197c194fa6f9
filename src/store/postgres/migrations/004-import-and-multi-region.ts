// Migration 004: when imported key material expires (for the expiry job), and an index to find
// the other regions' copies of a multi-Region key.
export const sql = `
ALTER TABLE keys ADD COLUMN valid_to BIGINT;
CREATE INDEX keys_material_expiry ON keys (valid_to) WHERE valid_to IS NOT NULL;
CREATE INDEX keys_by_key_id ON keys (account_id, key_id);
`
