/**
 * Migration 5: cluster-wide settings (such as the API's token signing key) and the idempotency
 * keys of writes, both replicated like every other table so that any node answers the same.
 */
export const migration005 = {
  version: 5,
  name: 'settings-and-idempotency',
  sql: `
-- Small named values the whole cluster shares. Not an entity: no revision, not listed by the API.
CREATE TABLE settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  updated_at TEXT NOT NULL
) WITHOUT ROWID;

-- The first result of each write that carried an Idempotency-Key, so that a retry reaching any
-- node returns it instead of applying again. expires_at is an ISO timestamp (compared as text);
-- expired keys are purged by the next keyed write.
CREATE TABLE idempotency_keys (
  key TEXT PRIMARY KEY,
  result TEXT NOT NULL,
  expires_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX idempotency_keys_by_expiry ON idempotency_keys(expires_at);
`,
} as const;
