/**
 * Migration 14: which intermediate CA signed each certificate the model knows of, so that a
 * rotation can be finished (core/model/ca-trust.ts): a router certificate's issuer (null for
 * those enrolled before this version: an issuer not known is never the current one), and each
 * controller's certificate in use, as the controller records it itself.
 */
export const migration014 = {
  version: 14,
  name: 'certificate-issuers',
  sql: `
ALTER TABLE router_certificates ADD COLUMN issuer TEXT;
CREATE TABLE controller_certificates (
  node_id TEXT PRIMARY KEY,
  serial TEXT NOT NULL,
  issuer TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  recorded_at TEXT NOT NULL
) WITHOUT ROWID;
`,
} as const;
