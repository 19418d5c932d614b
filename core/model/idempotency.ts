/**
 * Idempotency keys, inside apply: the first write with a key stores its result (success or
 * refusal); a later write with the same key, proposed by whichever node a client's retry reached,
 * returns that stored result and changes nothing else — if it is the same request: a key is
 * bound to the fingerprint of the request that first used it, and another request with it is
 * refused (IDEMPOTENCY_KEY_REUSED), never answered with the first one's result. Time comes from
 * the commands (`at`), so every node keeps and purges exactly the same keys.
 */
import type { ModelDatabase } from './database.js';

export interface IdempotencyKey {
  readonly key: string;
  /** When the taking node received the write (ISO). */
  readonly at: string;
  readonly ttlMs: number;
  /** A hash of the request (method, path, body); absent in entries of earlier versions. */
  readonly fingerprint?: string;
}

export interface RememberedWrite {
  readonly result: unknown;
  /** The first request's fingerprint; null for keys stored before fingerprints. */
  readonly fingerprint: string | null;
}

/** The stored first write for this key, if it is still remembered at `at`. */
export function rememberedWrite(db: ModelDatabase, { key, at }: IdempotencyKey): RememberedWrite | undefined {
  const stored = db.all('SELECT result, expires_at, fingerprint FROM idempotency_keys WHERE key = ?', [
    key,
  ])[0];
  if (!stored || String(stored.expires_at) <= at) return undefined;
  return {
    result: JSON.parse(String(stored.result)) as unknown,
    fingerprint:
      stored.fingerprint === null || stored.fingerprint === undefined ? null : String(stored.fingerprint),
  };
}

/** Whether a later write with the key is another request than the one that first used it. */
export function isAnotherRequest(first: RememberedWrite, later: IdempotencyKey): boolean {
  return (
    first.fingerprint !== null && later.fingerprint !== undefined && first.fingerprint !== later.fingerprint
  );
}

/** Records the first result for the key and forgets keys that expired before `at`. */
export function rememberResult(
  db: ModelDatabase,
  { key, at, ttlMs, fingerprint }: IdempotencyKey,
  result: unknown,
): void {
  db.run('DELETE FROM idempotency_keys WHERE expires_at <= ?', [at]);
  const expiresAt = new Date(Date.parse(at) + ttlMs).toISOString();
  db.run(
    'INSERT INTO idempotency_keys (key, result, expires_at, fingerprint) VALUES (?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET result = excluded.result, expires_at = excluded.expires_at, fingerprint = excluded.fingerprint',
    [key, JSON.stringify(result), expiresAt, fingerprint ?? null],
  );
}
