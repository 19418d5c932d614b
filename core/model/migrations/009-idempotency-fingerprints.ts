/**
 * Migration 9: each idempotency key remembers a fingerprint of the request that first used it
 * (method, path and body, hashed by the node that took it), so that the same key with another
 * request is refused instead of answered with the first one's result. Keys stored before have
 * none and replay as before.
 */
export const migration009 = {
  version: 9,
  name: 'idempotency-fingerprints',
  sql: `
ALTER TABLE idempotency_keys ADD COLUMN fingerprint TEXT;
`,
} as const;
