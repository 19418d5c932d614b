/**
 * Idempotency keys, inside apply: the first write with a key stores its result (success or
 * refusal); a later write with the same key, proposed by whichever node a client's retry reached,
 * returns that stored result and changes nothing else. Time comes from the commands (`at`), so
 * every node keeps and purges exactly the same keys.
 */
import type { ModelDatabase } from './database.js';

export interface IdempotencyKey {
  readonly key: string;
  /** When the taking node received the write (ISO). */
  readonly at: string;
  readonly ttlMs: number;
}

/** The stored first result for this key, if it is still remembered at `at`. */
export function rememberedResult(db: ModelDatabase, { key, at }: IdempotencyKey): unknown {
  const stored = db.all('SELECT result, expires_at FROM idempotency_keys WHERE key = ?', [key])[0];
  if (!stored || String(stored.expires_at) <= at) return undefined;
  return JSON.parse(String(stored.result)) as unknown;
}

/** Records the first result for the key and forgets keys that expired before `at`. */
export function rememberResult(db: ModelDatabase, { key, at, ttlMs }: IdempotencyKey, result: unknown): void {
  db.run('DELETE FROM idempotency_keys WHERE expires_at <= ?', [at]);
  const expiresAt = new Date(Date.parse(at) + ttlMs).toISOString();
  db.run(
    'INSERT INTO idempotency_keys (key, result, expires_at) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET result = excluded.result, expires_at = excluded.expires_at',
    [key, JSON.stringify(result), expiresAt],
  );
}
