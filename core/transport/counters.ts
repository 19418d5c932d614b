/** The transport's counters, shared by its parts and read out by `stats()`. */
import type { Logger } from 'pino';
import type { RefusalReason, TransportStats } from './types.js';

export type Counters = { -readonly [K in Exclude<keyof TransportStats, 'queued' | 'refusals'>]: number } & {
  refusals: Partial<Record<RefusalReason, number>>;
};

export function newCounters(): Counters {
  return {
    sent: 0,
    received: 0,
    malformed: 0,
    dropped: 0,
    refusedHandshakes: 0,
    refusals: {},
    framesSent: 0,
    framesReceived: 0,
  };
}

export type Log = Logger;

/** Counts a refusal by reason. */
export function countRefusal(counters: Counters, reason: RefusalReason): void {
  counters.refusedHandshakes += 1;
  counters.refusals[reason] = (counters.refusals[reason] ?? 0) + 1;
}
