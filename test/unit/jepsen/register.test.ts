/**
 * The register checker on hand-written histories: each valid one has a linearization the
 * register allows, each invalid one is a specific anomaly the API could show, and the failing
 * window names the ops that show it.
 */
import { describe, expect, it } from 'vitest';
import type { Operation, RegisterValue } from '../../jepsen/history.js';
import { checkLinearizable } from '../../jepsen/checker/linearizable.js';
import { registerModel } from '../../jepsen/checker/register-model.js';
import { checkRegisters } from '../../jepsen/checker/register.js';
import { registerOps } from './fixtures.js';

const INIT: RegisterValue = { value: 0, revision: 0 };

function check(ops: Operation[], init = INIT) {
  return checkLinearizable(ops, registerModel(init, ops));
}

/** Replays a witness against the model, so a 'valid' cannot come from a search that skipped a check. */
function replays(ops: readonly Operation[], order: readonly Operation[], init = INIT): boolean {
  const model = registerModel(init, ops);
  let state: RegisterValue | undefined = init;
  for (const op of order) state = state && model.step(state, op);
  return state !== undefined;
}

describe('register histories that are linearizable', () => {
  it('accepts concurrent writes taking effect in either order', () => {
    for (const [first, second] of [
      [1, 2],
      [2, 1],
    ] as const) {
      const h = registerOps();
      const ops = [
        h.write(0, [0, 10], 1, first),
        h.write(1, [1, 11], 2, second),
        h.read(2, [20, 25], second === 2 ? 2 : 1, 2),
      ];
      const result = check(ops);
      expect(result.verdict).toBe('valid');
      expect(replays(ops, result.linearization!)).toBe(true);
    }
  });

  it('accepts a read overlapping a write seeing the old or the new value', () => {
    for (const seen of [INIT, { value: 5, revision: 1 }]) {
      const h = registerOps();
      const ops = [h.write(0, [0, 20], 5, 1), h.read(1, [5, 15], seen.value, seen.revision)];
      expect(check(ops).verdict).toBe('valid');
    }
  });

  it('accepts a timed-out write that took effect, and one that never did', () => {
    const took = registerOps();
    expect(check([took.writeInfo(0, 0, 7), took.read(1, [50, 60], 7, 1)]).verdict).toBe('valid');
    const never = registerOps();
    expect(check([never.writeInfo(0, 0, 7), never.read(1, [50, 60], 0, 0)]).verdict).toBe('valid');
    // A later write's revision shows the timed-out one took effect before it.
    const shown = registerOps();
    expect(check([shown.writeInfo(0, 0, 7), shown.write(1, [50, 60], 8, 2)]).verdict).toBe('valid');
  });

  it('lets a timed-out write take effect long after it was sent', () => {
    const h = registerOps();
    const ops = [h.writeInfo(0, 0, 7), h.read(1, [10, 20], 0, 0), h.read(2, [100, 110], 7, 1)];
    expect(check(ops).verdict).toBe('valid');
  });

  it('accepts a cas that applies and one refused with 412 after the revision moved', () => {
    const h = registerOps();
    const ops = [
      h.read(0, [0, 5], 0, 0),
      h.cas(0, [10, 20], 0, 3, 1),
      h.casMismatch(1, [30, 40], 0, 4),
      h.read(1, [50, 55], 3, 1),
    ];
    expect(check(ops).verdict).toBe('valid');
  });

  it('accepts a 412 concurrent with the write that moved the revision', () => {
    const h = registerOps();
    const ops = [h.write(0, [0, 30], 1, 1), h.casMismatch(1, [5, 10], 0, 9), h.read(2, [40, 45], 1, 1)];
    expect(check(ops).verdict).toBe('valid');
  });

  it('applies a timed-out cas only when its revision matched', () => {
    const h = registerOps();
    // The cas named revision 5, so it cannot have produced revision 1.
    expect(check([h.casInfo(0, 0, 5, 9), h.read(1, [10, 20], 9, 1)]).verdict).toBe('invalid');
    const g = registerOps();
    expect(check([g.casInfo(0, 0, 0, 9), g.read(1, [10, 20], 9, 1)]).verdict).toBe('valid');
  });

  it('drops a refused write (503: never proposed) and a timed-out read', () => {
    const h = registerOps();
    const ops = [h.writeFail(0, [0, 10], 5), h.readInfo(1, 0), h.read(2, [20, 30], 0, 0)];
    const result = check(ops);
    expect(result.verdict).toBe('valid');
    expect(result.dropped).toBe(2);
  });

  it('starts each key from its own initial state', () => {
    const a = registerOps('a');
    const b = registerOps('b');
    const ops = [a.read(0, [0, 5], 10, 4), b.read(1, [0, 5], 20, 9)];
    const result = checkRegisters(ops, { a: { value: 10, revision: 4 }, b: { value: 20, revision: 9 } });
    expect(result.valid).toBe(true);
    expect(result.counts.keys).toBe(2);
    expect(checkRegisters(ops, { a: INIT, b: { value: 20, revision: 9 } }).valid).toBe(false);
  });
});

describe('register histories that are not linearizable', () => {
  it('rejects a stale read after a completed write', () => {
    const h = registerOps();
    const stale = h.read(1, [20, 30], 0, 0);
    const result = check([h.write(0, [0, 10], 1, 1), stale]);
    expect(result.verdict).toBe('invalid');
    expect(result.window!.ops).toContain(stale);
    expect(result.window!.ops.length).toBeLessThanOrEqual(2);
  });

  it("rejects a PATCH answered with another client's value and revision (two writes through two nodes)", () => {
    const h = registerOps();
    const w68 = h.write(0, [0, 10], 68, 1, 69);
    const w69 = h.write(1, [1, 11], 69, 1);
    const result = check([w68, w69, h.read(2, [20, 25], 69, 1)]);
    expect(result.verdict).toBe('invalid');
    expect(result.window!.ops).toEqual([w68]);
  });

  it('rejects two concurrent PATCHes both answered with the same revision', () => {
    const h = registerOps();
    const result = check([h.write(0, [0, 10], 68, 1), h.write(1, [1, 11], 69, 1)]);
    expect(result.verdict).toBe('invalid');
    expect(result.window!.ops).toHaveLength(2);
  });

  it('rejects a lost update through If-Match: two cas on one revision both applied', () => {
    const h = registerOps();
    const a = h.cas(0, [10, 20], 0, 1, 1);
    const b = h.cas(1, [12, 22], 0, 2, 1);
    const result = check([h.read(0, [0, 5], 0, 0), h.read(1, [0, 5], 0, 0), a, b, h.read(2, [30, 35], 2, 1)]);
    expect(result.verdict).toBe('invalid');
    expect(result.window!.ops).toEqual(expect.arrayContaining([a, b]));
    expect(result.window!.ops.length).toBeLessThanOrEqual(3);
  });

  it('rejects a 412 that could not have happened: nothing moved the revision it named', () => {
    const h = registerOps();
    const refused = h.casMismatch(1, [10, 20], 0, 4);
    const result = check([h.read(0, [0, 5], 0, 0), refused, h.read(0, [30, 35], 0, 0)]);
    expect(result.verdict).toBe('invalid');
    expect(result.window!.ops).toContain(refused);
  });

  it('rejects a read of a value never written', () => {
    const h = registerOps();
    expect(check([h.write(0, [0, 10], 1, 1), h.read(1, [20, 30], 42, 1)]).verdict).toBe('invalid');
    const g = registerOps();
    expect(check([g.read(1, [0, 5], 42, 0)]).verdict).toBe('invalid');
  });

  it('rejects a cas applied although the revision it named was gone', () => {
    const h = registerOps();
    const result = check([h.write(0, [0, 10], 1, 1), h.cas(1, [20, 30], 0, 2, 2)]);
    expect(result.verdict).toBe('invalid');
  });

  it('rejects a timed-out write seen twice (it takes effect once)', () => {
    const h = registerOps();
    const ops = [
      h.writeInfo(0, 0, 7),
      h.read(1, [10, 20], 7, 1),
      h.write(2, [30, 40], 8, 2),
      h.read(1, [50, 60], 7, 3),
    ];
    expect(check(ops).verdict).toBe('invalid');
  });
});

describe('the shortest failing window', () => {
  /** A long valid run: three clients writing and reading in turn, overlapping. */
  function longPrefix(
    h: ReturnType<typeof registerOps>,
    n: number,
  ): { ops: Operation[]; state: RegisterValue } {
    const ops: Operation[] = [];
    let revision = 0;
    let value = 0;
    for (let i = 0; i < n; i++) {
      const t = i * 10;
      if (i % 3 === 0) {
        value = i;
        revision++;
        ops.push(h.write(i % 4, [t, t + 12], value, revision));
      } else ops.push(h.read(i % 4, [t + 13, t + 18], value, revision));
    }
    return { ops, state: { value, revision } };
  }

  it('after a long valid prefix, holds only the ops of the violation', () => {
    const h = registerOps();
    const { ops, state } = longPrefix(h, 300);
    const t = 300 * 10 + 100;
    const write = h.write(1, [t, t + 10], 999, state.revision + 1);
    const stale = h.read(2, [t + 20, t + 30], state.value, state.revision);
    const result = check([...ops, write, stale, h.read(3, [t + 40, t + 50], 999, state.revision + 1)]);
    expect(result.verdict).toBe('invalid');
    const window = result.window!;
    expect(window.ops).toContain(stale);
    expect(window.ops.length).toBeLessThanOrEqual(3);
    expect(window.before).toBeGreaterThan(290);
    expect(window.starts).toContainEqual({ value: 999, revision: state.revision + 1 });
  });

  it('prefers a later, sharper violation to an earlier one that needs more ops', () => {
    const h = registerOps();
    // Early: a lost update needing two cas (and the reads around them). Late: one bad answer.
    const early = [
      h.read(0, [0, 5], 0, 0),
      h.cas(0, [10, 20], 0, 1, 1),
      h.cas(1, [12, 22], 0, 2, 1),
      h.read(2, [30, 35], 2, 1),
    ];
    const late = h.write(0, [100, 110], 5, 2, 6);
    const result = check([...early, h.read(1, [40, 45], 2, 1), late]);
    expect(result.verdict).toBe('invalid');
    expect(result.window!.ops).toEqual([late]);
  });

  it('renders the window one op per line with process, node, f, input, outcome, output and times', () => {
    const h = registerOps('cfg-1');
    const w68 = h.write(0, [0, 10], 68, 1, 69);
    const ops = [w68, h.write(1, [1, 11], 69, 1)];
    const result = checkRegisters(ops, { 'cfg-1': INIT });
    expect(result.valid).toBe(false);
    expect(result.window).toEqual([w68]);
    const text = result.windowText!.join('\n');
    expect(text).toContain('register cfg-1: not linearizable');
    expect(text).toContain('from the initial state: value=0 revision=0');
    expect(text).toMatch(/#0\s+p0\s+n0\s+write\s+value=68\s+ok\s+value=69 revision=1\s+0\.0 → 10\.0 ms/);
    expect(result.problems[0]).toContain('register cfg-1: not linearizable');
  });

  it('shows ops across the window edges as optional', () => {
    const h = registerOps();
    const ops = [h.writeInfo(0, 0, 5), h.read(1, [10, 20], 0, 0), h.read(2, [30, 40], 42, 0)];
    const result = checkRegisters(ops, { r: INIT });
    expect(result.valid).toBe(false);
    const text = result.windowText!.join('\n');
    expect(text).toMatch(/~ #0 +p0 +n0 +write +value=5 +info timeout/);
  });
});

describe('the search itself', () => {
  it("answers 'unknown' rather than running past its bound", () => {
    const h = registerOps();
    const ops = Array.from({ length: 12 }, (_, i) => h.writeInfo(i, i, i + 100));
    ops.push(h.read(20, [100, 110], 0, 12));
    const result = checkLinearizable(ops, registerModel(INIT, ops), { maxStates: 5 });
    expect(result.verdict).toBe('unknown');
    expect(result.explored).toBeLessThanOrEqual(5);
  });

  it('does not recurse: a 20 000-op history checks without overflowing the stack', () => {
    const h = registerOps();
    const ops = Array.from({ length: 20_000 }, (_, i) => h.write(0, [i * 2, i * 2 + 1], i, i + 1));
    expect(check(ops).verdict).toBe('valid');
    ops.push(h.read(1, [50_000, 50_001], 3, 4));
    expect(check(ops).verdict).toBe('invalid');
  });

  it('takes many interchangeable timeouts in stride: 60 unread timed-out writes, 30 took effect', () => {
    const h = registerOps();
    const ops = Array.from({ length: 60 }, (_, i) => h.writeInfo(i, i, 1000 + i));
    ops.push(h.write(99, [100, 110], 7, 31), h.read(98, [120, 130], 7, 31));
    const result = check(ops);
    expect(result.verdict).toBe('valid');
    expect(result.explored).toBeLessThan(10_000);
    ops.push(h.read(97, [140, 150], 7, 30));
    expect(check(ops).verdict).toBe('invalid');
  });
});
