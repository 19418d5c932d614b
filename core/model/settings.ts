/**
 * Cluster-wide settings: small named values every node holds identically (e.g. the API's token
 * signing key). Written only through the `setSetting` command; read directly from the database.
 */
import type { ModelDatabase } from './database.js';

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
