/**
 * Setup writes before any fault: one POST /batch per workload with an Idempotency-Key, retried
 * (bounded) while the answer says "not now" (503/429/504 or no answer), since a retry with the
 * same key never applies twice.
 */
import type { ApiClient } from '../client.js';
import { TransportFailure } from '../http.js';
import { hold } from '../wait.js';

export interface BatchResult {
  readonly id: string;
  readonly revision: number;
}

export async function setupBatch(
  api: ApiClient,
  key: string,
  operations: readonly Record<string, unknown>[],
  timeoutMs = 30_000,
): Promise<BatchResult[]> {
  const deadline = performance.now() + timeoutMs;
  let last = '';
  for (let attempt = 0; performance.now() < deadline; attempt++) {
    try {
      const answer = await api.call(0, 'POST', '/batch', {
        body: { operations },
        headers: { 'idempotency-key': key },
        timeoutMs: 5_000,
      });
      if (answer.status === 200) return (answer.json as { results: BatchResult[] }).results;
      if (![429, 503, 504].includes(answer.status)) {
        throw new Error(`setup ${key}: ${answer.status} ${answer.text.slice(0, 300)}`);
      }
      last = `${answer.status} ${answer.text.slice(0, 200)}`;
    } catch (err) {
      if (!(err instanceof TransportFailure)) throw err;
      last = String(err);
    }
    await hold(Math.min(1_000, 100 * 2 ** attempt));
  }
  throw new Error(`setup ${key} did not succeed within ${timeoutMs} ms: ${last}`);
}
