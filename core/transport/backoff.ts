/**
 * Reconnect back-off: exponential from `minMs`, capped at `maxMs`, with jitter so that the nodes of
 * a cluster that lost a peer at the same instant do not all redial it at the same instant.
 */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly minMs: number,
    private readonly maxMs: number,
    private readonly random: () => number,
    /** Fraction of the delay that is random: the delay lies in [base·(1−jitter), base]. */
    private readonly jitter = 0.5,
  ) {}

  /** The delay before the next attempt; each call doubles the base until the cap. */
  next(): number {
    const base = Math.min(this.maxMs, this.minMs * 2 ** Math.min(this.attempt, 30));
    this.attempt += 1;
    return Math.round(base * (1 - this.jitter * this.random()));
  }

  /** After a connection that completed its handshake: the next failure starts from `minMs` again. */
  reset(): void {
    this.attempt = 0;
  }
}
