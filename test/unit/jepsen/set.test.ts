/** The set checker: what an acked, failed or timed-out add promises about the reads after it. */
import { describe, expect, it } from 'vitest';
import type { Operation } from '../../jepsen/history.js';
import { checkSet } from '../../jepsen/checker/set.js';

function setOps() {
  let id = 0;
  const base = { node: 0, key: 'set' };
  return {
    add: (p: number, t: [number, number], e: string, outcome: 'ok' | 'fail' = 'ok'): Operation => ({
      ...base,
      id: id++,
      process: p,
      f: 'add',
      input: e,
      invokedAt: t[0],
      completedAt: t[1],
      outcome,
      ...(outcome === 'fail' ? { status: 503, error: 'NO_QUORUM' } : { status: 201 }),
    }),
    addInfo: (p: number, at: number, e: string): Operation => ({
      ...base,
      id: id++,
      process: p,
      f: 'add',
      input: e,
      invokedAt: at,
      outcome: 'info',
      error: 'timeout',
    }),
    read: (p: number, t: [number, number], elements: string[]): Operation => ({
      ...base,
      id: id++,
      process: p,
      f: 'readSet',
      invokedAt: t[0],
      completedAt: t[1],
      outcome: 'ok',
      output: elements,
    }),
  };
}

describe('the set checker', () => {
  it('accepts a run whose final read holds every acked add and no failed one', () => {
    const h = setOps();
    const result = checkSet([
      h.add(0, [0, 10], 'a'),
      h.add(1, [0, 10], 'b'),
      h.add(2, [0, 10], 'c', 'fail'),
      h.addInfo(3, 5, 'd'),
      h.addInfo(4, 5, 'e'),
      h.read(0, [20, 25], ['a', 'b']),
      h.read(0, [100, 110], ['a', 'b', 'd']),
    ]);
    expect(result.valid).toBe(true);
    expect(result.counts).toMatchObject({
      acked: 2,
      failed: 1,
      indeterminate: 2,
      recovered: 1,
      lost: 0,
      unexpected: 0,
    });
  });

  it('reports an acked add missing from the final read as lost', () => {
    const h = setOps();
    const result = checkSet([h.add(0, [0, 10], 'a'), h.add(1, [0, 10], 'b'), h.read(0, [100, 110], ['a'])]);
    expect(result.valid).toBe(false);
    expect(result.counts.lost).toBe(1);
    expect(result.problems.join('\n')).toContain('lost from the final read: b');
  });

  it('excuses an add acked only after the final read began', () => {
    const h = setOps();
    const result = checkSet([h.add(0, [90, 120], 'a'), h.read(1, [100, 110], [])]);
    expect(result.valid).toBe(true);
  });

  it('reports an element nobody added, and one whose add failed', () => {
    const h = setOps();
    const never = checkSet([h.add(0, [0, 10], 'a'), h.read(0, [100, 110], ['a', 'zz'])]);
    expect(never.valid).toBe(false);
    expect(never.counts.unexpected).toBe(1);
    const g = setOps();
    const failed = checkSet([g.add(0, [0, 10], 'a', 'fail'), g.read(0, [100, 110], ['a'])]);
    expect(failed.valid).toBe(false);
    expect(failed.counts.failedPresent).toBe(1);
  });

  it('reports a read during the run missing an add acked before it began', () => {
    const h = setOps();
    const result = checkSet([
      h.add(0, [0, 10], 'a'),
      h.read(1, [20, 30], []),
      h.read(1, [5, 8], []),
      h.read(1, [100, 110], ['a']),
    ]);
    expect(result.valid).toBe(false);
    expect(result.counts.staleReads).toBe(1);
    expect(result.problems[0]).toMatch(/#1 .*misses 1 acked element/);
  });

  it('reports a read that saw an element before its add was sent', () => {
    const h = setOps();
    const result = checkSet([
      h.read(1, [0, 5], ['a']),
      h.add(0, [10, 20], 'a'),
      h.read(1, [100, 110], ['a']),
    ]);
    expect(result.valid).toBe(false);
    expect(result.counts.premature).toBe(1);
  });

  it("answers 'unknown' without a successful read", () => {
    const h = setOps();
    const result = checkSet([h.add(0, [0, 10], 'a')]);
    expect(result.verdict).toBe('unknown');
    expect(result.valid).toBe(false);
  });
});
