/**
 * Migration 11: the certificates each router enrolled for. A router's certificate is accepted only
 * while its serial is here: re-enrolling replaces it, and disabling or deleting the router removes
 * it (the revocation), so that no certificate outlives the model's decision about its router.
 */
export const migration011 = {
  version: 11,
  name: 'router-certificates',
  sql: `
CREATE TABLE router_certificates (
  serial TEXT PRIMARY KEY,
  router_id TEXT NOT NULL REFERENCES routers(id) ON DELETE CASCADE,
  issued_at TEXT NOT NULL,
  expires_at TEXT NOT NULL
);
CREATE INDEX router_certificates_by_router ON router_certificates(router_id);
`,
} as const;
