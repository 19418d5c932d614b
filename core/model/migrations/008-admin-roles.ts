/**
 * Migration 8: each admin's role. `admin` may do everything; `readonly` may read the model, the
 * cluster and the runtime, and change its own password, nothing else (core/api/access.ts). Admins
 * from before roles existed keep full rights.
 */
export const migration008 = {
  version: 8,
  name: 'admin-roles',
  sql: `
ALTER TABLE admins ADD COLUMN role TEXT NOT NULL DEFAULT 'admin';
`,
} as const;
