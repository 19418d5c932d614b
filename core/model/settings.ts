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

/** Inside apply: removes the setting. Returns whether there was one. */
export function deleteSetting(db: ModelDatabase, key: string): boolean {
  if (readSetting(db, key) === undefined) return false;
  db.run('DELETE FROM settings WHERE key = ?', [key]);
  return true;
}

/** The settings whose keys start with `prefix`, in key order. */
export function readSettings(db: ModelDatabase, prefix: string): { key: string; value: string }[] {
  return db
    .all('SELECT key, value FROM settings WHERE substr(key, 1, ?) = ? ORDER BY key', [prefix.length, prefix])
    .map((row) => ({ key: String(row.key), value: String(row.value) }));
}
