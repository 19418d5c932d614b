/**
 * Time as the replica sees it: the wall clock, its Raft tick, deadline timers and "soon" (after
 * the current turn). Production runs on Node's timers (`systemClock`); the simulator (test/sim)
 * passes a virtual clock, so the real Replica runs there in a replayable order.
 */

export interface ClockTimer {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds, as Date.now(). */
  now(): number;
  /** Calls `fn` every `ms` until cancelled (setInterval). */
  every(ms: number, fn: () => void): ClockTimer;
  /** Calls `fn` once after `ms` unless cancelled (setTimeout). */
  after(ms: number, fn: () => void): ClockTimer;
  /** Calls `fn` once the current turn and its promise callbacks are done (setImmediate). */
  soon(fn: () => void): void;
}

/** Node's own timers. The globals are looked up at each call, so fake timers in tests apply. */
export const systemClock: Clock = {
  now: () => Date.now(),
  every(ms, fn) {
    const timer = setInterval(fn, ms);
    return { cancel: () => clearInterval(timer) };
  },
  after(ms, fn) {
    const timer = setTimeout(fn, ms);
    return { cancel: () => clearTimeout(timer) };
  },
  soon(fn) {
    setImmediate(fn);
  },
};
