/**
 * Cluster-wide settings: small named values every node holds identically (e.g. the API's token
 * signing key). Written only through the `setSetting` command; read directly from the database.
 */
import type { ModelDatabase } from './database.js';

/**
 * The secret routers prove on the router channel (core/runtime/router-auth.ts) until they have
 * certificates of their own; made by the bootstrap batch, read by admins through
 * `GET /cluster/router-secret`.
 */
export const ROUTER_SECRET_SETTING = 'routers.secret';

export function readSetting(db: ModelDatabase, key: string): string | undefined {
  const value = db.value('SELECT value FROM settings WHERE key = ?', [key]);
  return value === undefined || value === null ? undefined : String(value);
}

/** Inside apply: writes the value; with `onlyIfAbsent`, an existing value wins. Returns whether it wrote. */
export function writeSetting(
  db: ModelDatabase,
  key: string,
  value: string,
  at: string,
  onlyIfAbsent: boolean,
): boolean {
  if (onlyIfAbsent && readSetting(db, key) !== undefined) return false;
  db.run(
    'INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at',
    [key, value, at],
  );
  return true;
}
