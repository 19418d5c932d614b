/**
 * Properties over histories recorded from a real sequential register (fast-check): the checker
 * accepts every one of them, whatever the overlaps, timeouts and refusals; and it rejects each
 * once one read's answer is changed to something the register never held, with a failing window
 * that holds the changed read.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Operation, RegisterValue } from '../../jepsen/history.js';
import { checkLinearizable } from '../../jepsen/checker/linearizable.js';
import { registerModel } from '../../jepsen/checker/register-model.js';
import { runRegister, type PlannedOp } from './fixtures.js';

const INIT: RegisterValue = { value: 0, revision: 0 };

const plannedOp: fc.Arbitrary<PlannedOp> = fc.record({
  slot: fc.integer({ min: 0, max: 5 }),
  gap: fc.integer({ min: 0, max: 10 }),
  lin: fc.integer({ min: 0, max: 20 }),
  tail: fc.integer({ min: 0, max: 20 }),
  kind: fc.constantFrom('read', 'read', 'write', 'cas'),
  value: fc.integer({ min: 0, max: 4 }),
  casHit: fc.boolean(),
  fate: fc.constantFrom('ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'applied', 'lost', 'fail'),
});
const plan = fc.array(plannedOp, { minLength: 1, maxLength: 120 });

function check(ops: readonly Operation[]) {
  return checkLinearizable(ops, registerModel(INIT, ops));
}

function replace(ops: readonly Operation[], target: Operation, output: RegisterValue): Operation[] {
  return ops.map((o) => (o === target ? { ...o, output } : o));
}

const okReads = (ops: readonly Operation[]) => ops.filter((o) => o.f === 'read' && o.outcome === 'ok');

describe('histories of a real register', () => {
  it('are linearizable', () => {
    fc.assert(
      fc.property(plan, (p) => {
        expect(check(runRegister(p, INIT)).verdict).toBe('valid');
      }),
      { numRuns: 300 },
    );
  });

  it('stop being so when a read returns a value never written', () => {
    fc.assert(
      fc.property(plan, fc.nat(), (p, pick) => {
        const ops = runRegister(p, INIT);
        const reads = okReads(ops);
        fc.pre(reads.length > 0);
        const target = reads[pick % reads.length]!;
        const revision = (target.output as RegisterValue).revision;
        const result = check(replace(ops, target, { value: 1000, revision }));
        expect(result.verdict).toBe('invalid');
        expect(result.window!.ops.map((o) => o.id)).toContain(target.id);
      }),
      { numRuns: 200 },
    );
  });

  it('stop being so when a read returns a revision older than a write acked before it began', () => {
    fc.assert(
      fc.property(plan, fc.nat(), (p, pick) => {
        const ops = runRegister(p, INIT);
        const pairs = okReads(ops).flatMap((read) =>
          ops
            .filter((w) => w.f !== 'read' && w.outcome === 'ok' && w.completedAt! < read.invokedAt)
            .map((w) => ({ read, revision: (w.output as RegisterValue).revision - 1 })),
        );
        fc.pre(pairs.length > 0);
        const { read, revision } = pairs[pick % pairs.length]!;
        const result = check(replace(ops, read, { value: (read.output as RegisterValue).value, revision }));
        expect(result.verdict).toBe('invalid');
        expect(result.window!.ops.map((o) => o.id)).toContain(read.id);
      }),
      { numRuns: 200 },
    );
  });
});
