import { describe, expect, it } from 'vitest';
import { SimRng } from './rng.js';

describe('SimRng', () => {
  it('replays the same stream from the same seed', () => {
    const a = new SimRng(99);
    const b = new SimRng(99);
    const xs = Array.from({ length: 50 }, () => a.int(1000));
    expect(Array.from({ length: 50 }, () => b.int(1000))).toEqual(xs);
    expect(Array.from({ length: 50 }, () => new SimRng(100).int(1000))).not.toEqual(xs);
  });

  it('derives sub-streams from the seed and a label only, not from what was drawn', () => {
    const a = new SimRng(7);
    const b = new SimRng(7);
    for (let i = 0; i < 10; i++) b.next();
    expect(a.fork('network').next()).toBe(b.fork('network').next());
    expect(a.fork('network').next()).not.toBe(a.fork('faults').next());
  });

  it('stays within its ranges', () => {
    const r = new SimRng(1);
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const n = r.int(5);
      expect(n).toBeGreaterThanOrEqual(0);
      expect(n).toBeLessThan(5);
      seen.add(n);
      const x = r.between(3, 4);
      expect(x === 3 || x === 4).toBe(true);
      const f = r.float();
      expect(f >= 0 && f < 1).toBe(true);
    }
    expect(seen.size).toBe(5);
    expect(r.chance(0)).toBe(false);
    expect(r.chance(1)).toBe(true);
    expect(() => r.int(0)).toThrow(RangeError);
    expect(r.shuffle([1, 2, 3, 4]).sort()).toEqual([1, 2, 3, 4]);
  });
});
