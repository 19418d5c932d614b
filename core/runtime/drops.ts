/**
 * Router messages the controller refused: counted by reason (shown in the runtime status and the
 * API) and logged, never thrown. A router that keeps sending bad input is logged at most once a
 * second per reason so that it cannot flood the log.
 */
import type { Logger } from 'pino';

export type DropReason =
  | 'MALFORMED'
  | 'UNKNOWN_EVENT'
  | 'UNKNOWN_ROUTER'
  | 'UNKNOWN_LINK_END'
  | 'NOT_AN_END'
  | 'SELF_LINK'
  | 'LINK_ID_REUSED'
  | 'UNKNOWN_CIRCUIT'
  /** A fault about a circuit from a router not on its path, or about a link not beside it. */
  | 'FAULT_OFF_PATH';

export class DropCounter {
  private readonly counts = new Map<DropReason, number>();
  private readonly lastLogged = new Map<DropReason, number>();

  constructor(
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  drop(reason: DropReason, details: Record<string, unknown> = {}): void {
    this.counts.set(reason, (this.counts.get(reason) ?? 0) + 1);
    const at = this.now();
    if (at - (this.lastLogged.get(reason) ?? -Infinity) < 1_000) return;
    this.lastLogged.set(reason, at);
    this.log.warn({ reason, ...details }, 'dropped a router message');
  }

  get total(): number {
    let sum = 0;
    for (const n of this.counts.values()) sum += n;
    return sum;
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries([...this.counts].sort(([a], [b]) => (a < b ? -1 : 1)));
  }
}
