/** The transport's counters, shared by its parts and read out by `stats()`. */
import type { Logger } from 'pino';
import type { TransportStats } from './types.js';

export type Counters = { -readonly [K in Exclude<keyof TransportStats, 'queued'>]: number };

export function newCounters(): Counters {
  return {
    sent: 0,
    received: 0,
    malformed: 0,
    dropped: 0,
    refusedHandshakes: 0,
    framesSent: 0,
    framesReceived: 0,
  };
}

export type Log = Logger;
