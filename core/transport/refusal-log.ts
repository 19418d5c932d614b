/**
 * Refusals and drops logged at most once per peer, message and interval (10 s by default): the
 * first one at once, the rest counted and summed up in one line when the interval ends ("412 more
 * from 127.0.0.1 in the last 10 s"). A stranger hammering the cluster port must not flood the log,
 * nor keep the event loop busy writing it. The peer is whatever names it best at the point of
 * refusal: its address, before it said more.
 */
import type { Log } from './counters.js';

/** Keys remembered at most; beyond it the oldest are forgotten (their counts summed up at once). */
const MAX_KEYS = 1024;

export type Schedule = (run: () => void, ms: number) => { cancel(): void };

const unrefTimer: Schedule = (run, ms) => {
  const timer = setTimeout(run, ms);
  timer.unref();
  return { cancel: () => clearTimeout(timer) };
};

interface Window {
  readonly peer: string;
  readonly message: string;
  details: Record<string, unknown>;
  suppressed: number;
  readonly timer: { cancel(): void };
}

export class RefusalLog {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly log: Log,
    private readonly intervalMs = 10_000,
    private readonly schedule: Schedule = unrefTimer,
  ) {}

  refused(peer: string, details: Record<string, unknown>, message: string): void {
    const key = `${message}\u0000${peer}`;
    const open = this.windows.get(key);
    if (open) {
      open.suppressed += 1;
      open.details = details;
      return;
    }
    this.log.warn(details, message);
    const timer = this.schedule(() => this.summarise(key), this.intervalMs);
    this.windows.set(key, { peer, message, details, suppressed: 0, timer });
    if (this.windows.size > MAX_KEYS) this.summarise(this.windows.keys().next().value as string);
  }

  /** Sums up every open window now (the transport is closing). */
  close(): void {
    for (const key of [...this.windows.keys()]) this.summarise(key);
  }

  private summarise(key: string): void {
    const window = this.windows.get(key);
    if (!window) return;
    this.windows.delete(key);
    window.timer.cancel();
    if (window.suppressed === 0) return;
    const seconds = Math.round(this.intervalMs / 1000);
    this.log.warn(
      { ...window.details, suppressed: window.suppressed },
      `${window.message}: ${window.suppressed} more from ${window.peer} in the last ${seconds} s`,
    );
  }
}
