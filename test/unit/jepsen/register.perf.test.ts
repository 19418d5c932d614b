/**
 * The checker at the size of a real run: 5 keys × 600 ops from 6 concurrent clients, 10% of them
 * timing out. It must decide in well under a few seconds, valid or not, and find a small window.
 */
import { describe, expect, it } from 'vitest';
import type { Operation, RegisterValue } from '../../jepsen/history.js';
import { checkRegisters } from '../../jepsen/checker/register.js';
import { randomPlan, rng, runRegister } from './fixtures.js';

const KEYS = ['k0', 'k1', 'k2', 'k3', 'k4'];
const INIT: RegisterValue = { value: 0, revision: 0 };

function history(seed: number, values: number): Operation[] {
  const random = rng(seed);
  return KEYS.flatMap((key, i) => runRegister(randomPlan(random, 600, { values }), INIT, key, i * 1000));
}

const registers = Object.fromEntries(KEYS.map((k) => [k, INIT]));

function timed<T>(f: () => T): { result: T; ms: number } {
  const start = performance.now();
  const result = f();
  return { result, ms: performance.now() - start };
}

describe('checking a run-sized history', () => {
  for (const values of [5, 1000]) {
    it(`decides 5 keys × 600 ops (values from ${values}) in well under a few seconds`, () => {
      const ops = history(42 + values, values);
      expect(ops.filter((o) => o.outcome === 'info').length).toBeGreaterThan(200);
      const { result, ms } = timed(() => checkRegisters(ops, registers));
      console.log(
        `valid 3000-op history (values ${values}): ${ms.toFixed(0)} ms, ${result.counts.explored} configurations`,
      );
      expect(result.verdict).toBe('valid');
      expect(ms).toBeLessThan(3000);
    });
  }

  it('finds a one-read violation late in a run-sized history, and a small window for it', () => {
    const ops = history(7, 5);
    const reads = ops.filter((o) => o.key === 'k3' && o.f === 'read' && o.outcome === 'ok');
    const target = reads[Math.floor(reads.length * 0.8)]!;
    const mutated = ops.map((o) => (o === target ? { ...o, output: { value: 4242, revision: 1 } } : o));
    const { result, ms } = timed(() => checkRegisters(mutated, registers));
    console.log(`invalid 3000-op history: ${ms.toFixed(0)} ms, window of ${result.window?.length} ops`);
    expect(result.verdict).toBe('invalid');
    expect(result.keys.filter((k) => k.verdict === 'invalid').map((k) => k.key)).toEqual(['k3']);
    expect(result.window!.map((o) => o.id)).toContain(target.id);
    expect(result.window!.length).toBeLessThanOrEqual(3);
    expect(ms).toBeLessThan(5000);
  });
});
