/**
 * Callers waiting on the log: writes waiting for their entry to apply, and readers waiting for an
 * index to be applied. Deadlines are checked by one sweeping timer, not one timer per request, so
 * thousands of writes in flight cost nothing extra.
 */
import { systemClock, type Clock, type ClockTimer } from './clock.js';
import { ReplicaError } from './errors.js';

const SWEEP_MS = 50;

interface Waiter<T> {
  readonly deadline: number;
  readonly resolve: (value: T) => void;
  readonly reject: (err: Error) => void;
}

/** Calls `onExpired` for waiters past their deadline while any are waiting. */
class DeadlineSweeper {
  private timer: ClockTimer | undefined;
  constructor(
    private readonly clock: Clock,
    private readonly sweep: (now: number) => void,
    private readonly count: () => number,
  ) {}

  arm(): void {
    if (this.timer) return;
    this.timer = this.clock.every(SWEEP_MS, () => {
      this.sweep(this.clock.now());
      if (this.count() === 0) this.disarm();
    });
  }

  now(): number {
    return this.clock.now();
  }

  disarm(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }
}

/** Writes proposed on this node, by log index and the term they were proposed in. */
export class PendingProposals {
  private readonly byIndex = new Map<number, Waiter<unknown> & { term: number }>();
  private readonly sweeper: DeadlineSweeper;

  constructor(clock: Clock = systemClock) {
    this.sweeper = new DeadlineSweeper(
      clock,
      (now) => {
        for (const [index, w] of this.byIndex) {
          if (w.deadline > now) continue;
          this.byIndex.delete(index);
          w.reject(
            new ReplicaError(
              'TIMEOUT',
              `entry ${index} did not apply in time; it may still apply`,
              'unknown',
            ),
          );
        }
      },
      () => this.byIndex.size,
    );
  }

  get size(): number {
    return this.byIndex.size;
  }

  wait(index: number, term: number, timeoutMs: number): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.byIndex
        .get(index)
        ?.reject(new ReplicaError('PROPOSAL_DROPPED', `entry ${index} was replaced`, 'not-applied'));
      this.byIndex.set(index, { term, deadline: this.sweeper.now() + timeoutMs, resolve, reject });
      this.sweeper.arm();
    });
  }

  /** The entry at `index` applied with `term`: the waiter's write applied only if its term matches. */
  settle(index: number, term: number, result: unknown): void {
    const w = this.byIndex.get(index);
    if (!w) return;
    this.byIndex.delete(index);
    if (w.term === term) w.resolve(result);
    // A new leader wrote another entry at this index: ours was never committed.
    else
      w.reject(
        new ReplicaError(
          'PROPOSAL_DROPPED',
          `leadership changed before entry ${index} committed`,
          'not-applied',
        ),
      );
  }

  /** Fails every waiter at or below `index` with the error `fail` throws. */
  settleThrough(index: number, fail: () => never): void {
    for (const [i, w] of this.byIndex) {
      if (i > index) continue;
      this.byIndex.delete(i);
      try {
        fail();
      } catch (err) {
        w.reject(err as Error);
      }
    }
  }

  rejectAll(err: Error): void {
    for (const w of this.byIndex.values()) w.reject(err);
    this.byIndex.clear();
    this.sweeper.disarm();
  }
}

/** Readers waiting until the node has applied an index. */
export class IndexWaiters {
  private waiters: (Waiter<void> & { index: number })[] = [];
  private readonly sweeper: DeadlineSweeper;

  constructor(clock: Clock = systemClock) {
    this.sweeper = new DeadlineSweeper(
      clock,
      (now) => {
        const expired = this.waiters.filter((w) => w.deadline <= now);
        if (expired.length === 0) return;
        this.waiters = this.waiters.filter((w) => w.deadline > now);
        for (const w of expired) {
          w.reject(new ReplicaError('TIMEOUT', `index ${w.index} was not applied in time`, 'not-proposed'));
        }
      },
      () => this.waiters.length,
    );
  }

  wait(index: number, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiters.push({ index, deadline: this.sweeper.now() + timeoutMs, resolve, reject });
      this.sweeper.arm();
    });
  }

  release(applied: number): void {
    if (this.waiters.length === 0) return;
    const ready = this.waiters.filter((w) => w.index <= applied);
    if (ready.length === 0) return;
    this.waiters = this.waiters.filter((w) => w.index > applied);
    for (const w of ready) w.resolve();
  }

  rejectAll(err: Error): void {
    for (const w of this.waiters) w.reject(err);
    this.waiters = [];
    this.sweeper.disarm();
  }
}
