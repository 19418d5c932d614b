/**
 * Migration 6: one-time join tokens ("invitations"). Only the SHA-256 of a token's secret is
 * kept: the secret itself is in the token the admin hands over, never in the model. Timestamps
 * are ISO strings with milliseconds, compared as text, like every other time in the model.
 */
export const migration006 = {
  version: 6,
  name: 'invitations',
  sql: `
CREATE TABLE invitations (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('controller', 'router')),
  secret_hash TEXT NOT NULL,
  created_at TEXT NOT NULL,
  created_by TEXT,
  expires_at TEXT NOT NULL,
  used_at TEXT,
  used_by TEXT,
  revoked_at TEXT
) WITHOUT ROWID;
CREATE INDEX invitations_by_creation ON invitations(created_at);
`,
} as const;
