/**
 * Requests from nodes rather than admins (a joining node asking to be added) prove that they hold
 * the cluster secret: `Authorization: Cluster <ts>.<hex HMAC-SHA256(secret, ts + "\n" + body)>`,
 * with `ts` in milliseconds since the epoch and within a minute of the receiver's clock. The MAC
 * covers the raw body, so a captured header cannot carry another request.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const CLUSTER_AUTH_SCHEME = 'Cluster';
export const CLUSTER_AUTH_MAX_SKEW_MS = 60_000;

function mac(secret: string, ts: string, body: string): Buffer {
  return createHmac('sha256', secret).update(`${ts}\n${body}`).digest();
}

/** The Authorization header value for a request with this raw body. */
export function signClusterRequest(secret: string, body: string, now: number = Date.now()): string {
  const ts = String(Math.trunc(now));
  return `${CLUSTER_AUTH_SCHEME} ${ts}.${mac(secret, ts, body).toString('hex')}`;
}

export type ClusterAuthFailure = 'MALFORMED' | 'STALE' | 'BAD_SIGNATURE';

/** Checks a `Cluster …` header against the raw body; undefined when it is good. */
export function verifyClusterRequest(
  secret: string,
  header: string,
  body: string,
  now: number = Date.now(),
  maxSkewMs: number = CLUSTER_AUTH_MAX_SKEW_MS,
): ClusterAuthFailure | undefined {
  const match = /^Cluster ([0-9]{1,16})\.([0-9a-f]{64})$/.exec(header.trim());
  if (!match) return 'MALFORMED';
  const [, ts = '', hex = ''] = match;
  if (Math.abs(now - Number(ts)) >= maxSkewMs) return 'STALE';
  const expected = mac(secret, ts, body);
  const given = Buffer.from(hex, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected) ? undefined : 'BAD_SIGNATURE';
}
