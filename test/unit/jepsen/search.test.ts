/**
 * The search against brute force: on small random histories (valid and not), with timeouts,
 * 412s and ops that need not be linearized, it answers exactly what trying every order of every
 * subset answers — so the memo, the pruning and the info-class shortcut lose no linearization.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Operation } from '../../jepsen/history.js';
import type { Model } from '../../jepsen/checker/model.js';
import { registerModel } from '../../jepsen/checker/register-model.js';
import { search, type SearchOp } from '../../jepsen/checker/search.js';
import { windowOps } from '../../jepsen/checker/window.js';
import { registerOps } from './fixtures.js';

function permutations<T>(xs: readonly T[]): T[][] {
  if (xs.length <= 1) return [[...xs]];
  return xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]));
}

/** Whether `order` respects real time: nothing placed before an op that returned before it began. */
function realTimeOk(order: readonly SearchOp[]): boolean {
  return order.every((a, i) => order.slice(i + 1).every((b) => !(b.returnAt < a.op.invokedAt)));
}

function legal<S>(model: Model<S>, start: S, order: readonly SearchOp[]): boolean {
  let state: S | undefined = start;
  for (const s of order) state = state === undefined ? undefined : model.step(state, s.op);
  return state !== undefined;
}

function bruteForce<S>(ops: readonly SearchOp[], model: Model<S>, starts: readonly S[]): boolean {
  const required = ops.filter((s) => s.required);
  const optional = ops.filter((s) => !s.required);
  for (let mask = 0; mask < 1 << optional.length; mask++) {
    const chosen = [...required, ...optional.filter((_, i) => mask & (1 << i))];
    for (const order of permutations(chosen)) {
      if (realTimeOk(order) && starts.some((s) => legal(model, s, order))) return true;
    }
  }
  return false;
}

const registerValue = fc.record({
  value: fc.integer({ min: 0, max: 2 }),
  revision: fc.integer({ min: 0, max: 3 }),
});

const randomOp = fc.record({
  f: fc.constantFrom('read', 'write', 'cas'),
  outcome: fc.constantFrom('ok', 'ok', 'ok', 'info', 'fail412'),
  invokedAt: fc.integer({ min: 0, max: 20 }),
  length: fc.integer({ min: 0, max: 12 }),
  value: fc.integer({ min: 0, max: 2 }),
  ifRevision: fc.integer({ min: 0, max: 3 }),
  output: registerValue,
  optional: fc.boolean(),
});

type RandomOp = typeof randomOp extends fc.Arbitrary<infer T> ? T : never;

function toSearchOps(specs: RandomOp[], withOptional: boolean): SearchOp[] {
  return specs
    .map((s, id): Operation => {
      const input =
        s.f === 'read'
          ? undefined
          : s.f === 'write'
            ? { value: s.value }
            : { value: s.value, ifRevision: s.ifRevision };
      const base = { id, process: id, node: 0, f: s.f, key: 'r', input, invokedAt: s.invokedAt };
      if (s.outcome === 'info')
        return {
          ...base,
          f: s.f === 'read' ? 'write' : s.f,
          input: input ?? { value: s.value },
          outcome: 'info',
        };
      if (s.outcome === 'fail412') {
        return {
          ...base,
          f: 'cas',
          input: { value: s.value, ifRevision: s.ifRevision },
          completedAt: s.invokedAt + s.length,
          outcome: 'fail',
          status: 412,
          error: 'REVISION_MISMATCH',
        };
      }
      const output = s.f === 'read' ? s.output : { value: s.value, revision: s.output.revision };
      return { ...base, completedAt: s.invokedAt + s.length, outcome: 'ok', output };
    })
    .sort((a, b) => a.invokedAt - b.invokedAt || a.id - b.id)
    .map((op, i) =>
      op.outcome === 'info'
        ? { op, required: false, returnAt: Infinity }
        : {
            op,
            required: !(withOptional && specs[op.id]!.optional && i % 2 === 0),
            returnAt: op.completedAt!,
          },
    );
}

describe('the linearizability search', () => {
  it('agrees with brute force on small random register histories', () => {
    let valid = 0;
    let invalid = 0;
    fc.assert(
      fc.property(
        fc.array(randomOp, { minLength: 1, maxLength: 6 }),
        fc.array(registerValue, { minLength: 1, maxLength: 2 }),
        fc.boolean(),
        (specs, starts, withOptional) => {
          const ops = toSearchOps(specs, withOptional);
          const model = registerModel(
            starts[0]!,
            ops.map((s) => s.op),
          );
          const expected = bruteForce(ops, model, starts);
          const out = search(ops, model, starts, { remaining: 1_000_000 });
          expect(out.verdict).toBe(expected ? 'valid' : 'invalid');
          if (expected) {
            valid++;
            // The witness it gives is itself a legal, real-time order containing every required op.
            const order = out.order!.map((op) => ops.find((s) => s.op === op)!);
            expect(realTimeOk(order)).toBe(true);
            expect(starts.some((s) => legal(model, s, order))).toBe(true);
            expect(ops.filter((s) => s.required).every((s) => order.includes(s))).toBe(true);
          } else invalid++;
        },
      ),
      { numRuns: 1500 },
    );
    // Both answers must have been exercised for the agreement to mean anything.
    expect(valid).toBeGreaterThan(100);
    expect(invalid).toBeGreaterThan(100);
  });

  it('never linearizes an optional op after an op invoked once its interval was over', () => {
    const h = registerOps();
    // The write took effect before the first read began, or never: the first read says never.
    const write = h.write(0, [0, 5], 1, 1);
    const ops: SearchOp[] = [
      { op: write, required: false, returnAt: 5 },
      { op: h.read(1, [10, 15], 0, 0), required: true, returnAt: 15 },
      { op: h.read(1, [20, 25], 1, 1), required: true, returnAt: 25 },
    ];
    const model = registerModel({ value: 0, revision: 0 });
    expect(search(ops, model, [model.init], { remaining: 1000 }).verdict).toBe('invalid');
    expect(search(ops.slice(0, 2), model, [model.init], { remaining: 1000 }).verdict).toBe('valid');
  });

  it('with several starts, counts as failed only what a start explored to the end', () => {
    const h = registerOps();
    // From the initial state it takes over a hundred configurations (the first turn's allowance
    // is far smaller) to apply the 100 timeouts that the acked write's revision asks for.
    const ops = Array.from({ length: 120 }, (_, i) => h.writeInfo(i, i, 1000 + i));
    ops.push(h.write(200, [200, 210], 7, 101));
    const input = ops.map((op): SearchOp =>
      op.outcome === 'info'
        ? { op, required: false, returnAt: Infinity }
        : { op, required: true, returnAt: 210 },
    );
    const model = registerModel({ value: 0, revision: 0 }, ops);
    const out = search(input, model, [model.init, { value: 0, revision: 5000 }], { remaining: 100_000 });
    expect(out.verdict).toBe('valid');
    expect(out.explored).toBeGreaterThan(100);
  });

  it('records the states a prefix can leave, for window starts', () => {
    const model = registerModel({ value: 0, revision: 0 });
    const op = (id: number, t: [number, number], value: number, revision: number): SearchOp => ({
      op: {
        id,
        process: id,
        node: 0,
        f: 'write',
        key: 'r',
        input: { value },
        invokedAt: t[0],
        completedAt: t[1],
        outcome: 'ok',
        output: { value, revision },
      },
      required: true,
      returnAt: t[1],
    });
    // Two concurrent writes, then a third after both; a bad last write makes the search exhaustive.
    const ops = [op(0, [0, 10], 1, 1), op(1, [0, 10], 2, 2), op(2, [20, 30], 3, 3), op(3, [40, 50], 4, 9)];
    const out = search(ops, model, [model.init], { remaining: 100 }, { record: true });
    expect(out.verdict).toBe('invalid');
    expect(out.stuckAt).toBe(3);
    const starts = (i: number) => out.reached!.filter((r) => r.from <= i && i <= r.to).map((r) => r.state);
    expect(starts(0)).toEqual([{ value: 0, revision: 0 }]);
    // Before the second write: nothing yet, or the first write already (it is concurrent).
    expect(starts(1)).toEqual([
      { value: 0, revision: 0 },
      { value: 1, revision: 1 },
    ]);
    // Both writes returned before the third was invoked.
    expect(starts(2)).toEqual([{ value: 2, revision: 2 }]);
  });

  it('makes the ops across a window edge optional, and only those', () => {
    const mk = (id: number, invokedAt: number, completedAt: number | undefined): SearchOp => ({
      op: {
        id,
        process: id,
        node: 0,
        f: 'write',
        key: 'r',
        invokedAt,
        outcome: completedAt === undefined ? 'info' : 'ok',
        ...(completedAt === undefined ? {} : { completedAt }),
      },
      required: completedAt !== undefined,
      returnAt: completedAt ?? Infinity,
    });
    const ops = [
      mk(0, 0, undefined),
      mk(1, 1, 5),
      mk(2, 2, 30),
      mk(3, 10, 20),
      mk(4, 15, 25),
      mk(5, 26, 40),
      mk(6, 50, 60),
    ];
    const w = windowOps(ops, 3, 3);
    expect(w.edges.map((o) => o.id)).toEqual([0, 2, 4]);
    expect(w.ops.map((s) => [s.op.id, s.required])).toEqual([
      [0, false],
      [2, false],
      [3, true],
      [4, false],
    ]);
  });
});
