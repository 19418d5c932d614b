/**
 * Virtual time for the real Replica. The event loop holds every timer of every node in one queue
 * ordered by (time, sequence); `soon` callbacks (the Replica's setImmediate) run after the event
 * that queued them, once its promise callbacks have run. Each node incarnation gets its own
 * `NodeClock`: a crash kills it, and every timer, `soon` and disk completion it queued then does
 * nothing (the crashed Replica object is simply abandoned, as a killed process would be).
 */
import type { Clock, ClockTimer } from '../../core/replication/clock.js';
import { TimedHeap } from './heap.js';
import { Violation } from './violation.js';

/** Reads of the clock within one virtual millisecond beyond which the node must be spinning. */
const SPIN_LIMIT = 100_000;

interface Timer {
  readonly at: number;
  readonly seq: number;
  readonly run: () => void;
}

/**
 * Lets every promise callback already queued run (and those they queue). Called from a promise
 * callback (the simulation's own async loop), a `process.nextTick` callback runs only once V8 has
 * emptied the microtask queue, so this is a barrier, not a wait for time to pass; it is several
 * times cheaper than a turn of the event loop (setImmediate), which matters at ~10k per seed.
 */
const promiseCallbacksDone = (): Promise<void> => new Promise((resolve) => process.nextTick(resolve));

export class EventLoop {
  now = 0;
  private readonly timers = new TimedHeap<Timer>();
  private seq = 0;
  private soonQueue: (() => void)[] = [];
  /** Something ran that may have queued promise callbacks. */
  private dirty = false;

  at(time: number, run: () => void): void {
    this.timers.push({ at: Math.max(time, this.now), seq: this.seq++, run });
  }

  soon(run: () => void): void {
    this.soonQueue.push(run);
  }

  /** Marks that promise callbacks may be pending (a promise was settled, an async call made). */
  touch(): void {
    this.dirty = true;
  }

  nextTimerAt(): number | undefined {
    return this.timers.peek()?.at;
  }

  /** Runs every timer due at `time` (the current time), each followed by `settle`. */
  async runTimersAt(time: number): Promise<void> {
    for (let t = this.timers.peek(); t && t.at === time; t = this.timers.peek()) {
      this.timers.pop();
      t.run();
      this.dirty = true;
      await this.settle();
    }
  }

  /** Runs `soon` callbacks and promise callbacks until neither is left. */
  async settle(): Promise<void> {
    for (;;) {
      if (this.soonQueue.length > 0) {
        const queued = this.soonQueue;
        this.soonQueue = [];
        for (const run of queued) run();
        this.dirty = true;
      }
      if (!this.dirty) return;
      this.dirty = false;
      await promiseCallbacksDone();
    }
  }
}

/** One node incarnation's clock; `kill()` silences everything it scheduled. */
export class NodeClock implements Clock {
  private alive = true;
  private readAt = -1;
  private reads = 0;

  constructor(
    private readonly loop: EventLoop,
    /** Offset of this node's periodic timers within their period: nodes do not tick in lockstep. */
    private readonly phase: number,
  ) {}

  get isAlive(): boolean {
    return this.alive;
  }

  kill(): void {
    this.alive = false;
  }

  /**
   * Virtual time stands still while promise callbacks run: a loop of them that polls the clock
   * would spin forever here (and in production, starve the event loop until its deadline).
   */
  now(): number {
    const now = this.loop.now;
    if (now !== this.readAt) {
      this.readAt = now;
      this.reads = 0;
    } else if (++this.reads > SPIN_LIMIT) {
      throw new Violation(
        'livelock',
        `the clock was read ${SPIN_LIMIT} times at ${now} ms without time passing`,
      );
    }
    return now;
  }

  every(ms: number, fn: () => void): ClockTimer {
    const timer = cancellable();
    let at = (Math.floor(this.loop.now / ms) + 1) * ms + (this.phase % ms);
    const fire = (): void => {
      if (!this.alive || timer.cancelled) return;
      fn();
      at += ms;
      this.loop.at(at, fire);
    };
    this.loop.at(at, fire);
    return timer;
  }

  after(ms: number, fn: () => void): ClockTimer {
    const timer = cancellable();
    this.loop.at(this.loop.now + ms, () => {
      if (this.alive && !timer.cancelled) fn();
    });
    return timer;
  }

  soon(fn: () => void): void {
    this.loop.soon(() => {
      if (this.alive) fn();
    });
  }
}

function cancellable(): ClockTimer & { cancelled: boolean } {
  const timer = {
    cancelled: false,
    cancel(): void {
      timer.cancelled = true;
    },
  };
  return timer;
}
