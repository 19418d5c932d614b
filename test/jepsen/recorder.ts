/**
 * Records the history as history.ts defines it: ids in invocation order, times in ms on one
 * monotonic clock from the run's start, an `info` without completion time. Faults go in beside
 * the operations, on the same clock.
 */
import type { Completion } from './client.js';
import type { HistoryFile, Operation, OpF } from './history.js';

type Fault = HistoryFile['faults'][number];

export interface Invocation {
  readonly process: number;
  readonly node: number;
  readonly f: OpF;
  readonly key: string;
  readonly input?: unknown;
}

export class Recorder {
  private readonly origin = performance.now();
  private nextId = 0;
  private readonly ops: Operation[] = [];
  private readonly faultLog: Fault[] = [];

  /** Milliseconds since the run started (µs resolution keeps the file small). */
  now(): number {
    return Math.round((performance.now() - this.origin) * 1000) / 1000;
  }

  /** Invokes `run` as one operation and records it once it completes. */
  async record(invocation: Invocation, run: () => Promise<Completion>): Promise<Operation> {
    const id = this.nextId++;
    const invokedAt = this.now();
    let done: Completion;
    try {
      done = await run();
    } catch (err) {
      // A runner bug must not leave a hole in the history: whatever it did is unknown.
      done = { outcome: 'info', error: `RUNNER: ${String(err)}` };
    }
    const op: Operation = {
      id,
      process: invocation.process,
      node: invocation.node,
      f: invocation.f,
      key: invocation.key,
      ...(invocation.input !== undefined ? { input: invocation.input } : {}),
      invokedAt,
      ...(done.outcome !== 'info' ? { completedAt: this.now() } : {}),
      outcome: done.outcome,
      ...(done.outcome === 'ok' && done.output !== undefined ? { output: done.output } : {}),
      ...(done.status !== undefined ? { status: done.status } : {}),
      ...(done.error !== undefined ? { error: done.error } : {}),
    };
    this.ops.push(op);
    return op;
  }

  fault(what: string, nodes: readonly number[]): void {
    this.faultLog.push({ at: this.now(), what, nodes: [...nodes] });
  }

  operations(): Operation[] {
    return [...this.ops].sort((a, b) => a.id - b.id);
  }

  faults(): Fault[] {
    return [...this.faultLog];
  }
}
