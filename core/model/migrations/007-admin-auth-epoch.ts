/**
 * Migration 7: each admin's auth epoch. Tokens carry the epoch their admin had when they were
 * issued; changing the password or signing out everywhere raises it, and every node then refuses
 * the older tokens at once (core/api/auth.ts). Not part of the admin's API shape.
 */
export const migration007 = {
  version: 7,
  name: 'admin-auth-epoch',
  sql: `
ALTER TABLE admins ADD COLUMN auth_epoch INTEGER NOT NULL DEFAULT 1;
`,
} as const;
