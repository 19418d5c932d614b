/**
 * One logical client of a run: the node it talks to (client c → node c % N), its seeded stream
 * of choices, its current Jepsen process (retired after an `info`, so one process never has two
 * operations open), and what it last saw of each register (for compare-and-set).
 */
import type { SimRng } from '../../sim/rng.js';

export class ClientState {
  /** The revision this client last saw per register key. */
  readonly seen = new Map<string, number>();
  process: number;
  private written = 0;
  private added = 0;

  constructor(
    readonly index: number,
    readonly clients: number,
    readonly node: number,
    readonly rng: SimRng,
  ) {
    this.process = index;
  }

  /** After an `info`: the next process number of this client (Jepsen's p + clients). */
  retire(): void {
    this.process += this.clients;
  }

  /** A value no other write of the run uses: clients interleave, each counts up. */
  nextValue(): number {
    return 1 + this.index + this.clients * this.written++;
  }

  /** A set element no other add of the run uses. */
  nextElement(): string {
    return `jset-${this.index}-${this.added++}`;
  }
}
