/**
 * Refusals logged at most once per peer and interval (a minute by default), with how many were
 * left out since the last line: a stranger hammering the cluster port must not flood the log.
 * The peer is whatever names it best at the point of refusal: its address, before it said more.
 */
import type { Log } from './counters.js';

/** Peers remembered at most; beyond it the oldest entries are forgotten (and may log again). */
const MAX_PEERS = 1024;

export class RefusalLog {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly log: Log,
    private readonly intervalMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  refused(peer: string, details: Record<string, unknown>, message: string): void {
    const at = this.now();
    const seen = this.last.get(peer);
    if (seen && at - seen.at < this.intervalMs) {
      seen.suppressed += 1;
      return;
    }
    this.last.delete(peer);
    this.last.set(peer, { at, suppressed: 0 });
    if (this.last.size > MAX_PEERS) this.last.delete(this.last.keys().next().value as string);
    const left = seen?.suppressed ?? 0;
    this.log.warn({ ...details, ...(left > 0 ? { suppressedSinceLast: left } : {}) }, message);
  }
}
