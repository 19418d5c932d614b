import { describe, expect, it } from 'vitest';
import { RefusalLog, type Schedule } from '../../../core/transport/refusal-log.js';

/** A log that keeps its lines and a scheduler the test runs by hand. */
function setup(): { log: RefusalLog; lines: { details: object; message: string }[]; fire(): void } {
  const lines: { details: object; message: string }[] = [];
  const due: { run: () => void; live: boolean }[] = [];
  const schedule: Schedule = (run) => {
    const entry = { run, live: true };
    due.push(entry);
    return { cancel: () => (entry.live = false) };
  };
  const sink = {
    warn: (details: object, message: string) => lines.push({ details, message }),
    info: () => undefined,
    error: () => undefined,
    debug: () => undefined,
  };
  return {
    log: new RefusalLog(sink as never, 10_000, schedule),
    lines,
    fire: () => due.splice(0).forEach((entry) => entry.live && entry.run()),
  };
}

describe('RefusalLog', () => {
  it('logs the first refusal at once and sums up the rest when the interval ends', () => {
    const { log, lines, fire } = setup();
    for (let i = 0; i < 1000; i++) log.refused('127.0.0.1', { reason: 'X', i }, 'refused');
    expect(lines).toEqual([{ details: { reason: 'X', i: 0 }, message: 'refused' }]);
    fire();
    expect(lines[1]).toEqual({
      details: { reason: 'X', i: 999, suppressed: 999 },
      message: 'refused: 999 more from 127.0.0.1 in the last 10 s',
    });
    // A new interval starts with a line of its own.
    log.refused('127.0.0.1', { reason: 'X' }, 'refused');
    expect(lines).toHaveLength(3);
  });

  it('keeps peers and messages apart, and writes nothing more for a lone refusal', () => {
    const { log, lines, fire } = setup();
    log.refused('a', {}, 'one');
    log.refused('b', {}, 'one');
    log.refused('a', {}, 'two');
    expect(lines.map((l) => l.message)).toEqual(['one', 'one', 'two']);
    fire();
    expect(lines).toHaveLength(3);
  });

  it('sums up what is open when closed', () => {
    const { log, lines } = setup();
    log.refused('a', {}, 'one');
    log.refused('a', {}, 'one');
    log.close();
    expect(lines.map((l) => l.message)).toEqual(['one', 'one: 1 more from a in the last 10 s']);
  });
});
