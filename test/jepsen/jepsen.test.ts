/**
 * The Jepsen suite's CI profile (issue 11): one short run of 3 real `meshdesk start` processes on
 * loopback with all three workloads and a fault about every 4 s. Seed 30's schedule starts with a
 * kill -9 of the leader, a pause and a leader-in-the-minority partition (then a kill -9 of a
 * follower and a crash mid-snapshot), so those three certainly happen. The checkers must find
 * the history valid, the contract unbroken, and the run must have done real work.
 */
import { describe, expect, it } from 'vitest';
import { SimRng } from '../sim/rng.js';
import { FAULT_KINDS, planFaults } from './nemesis.js';
import { runningCount } from './processes.js';
import { report, summary } from './report.js';
import { runOnce, type RunOptions } from './run.js';

const OPTIONS: Omit<RunOptions, 'log'> = {
  seed: 30,
  timeMs: 25_000,
  nodes: 3,
  clients: 6,
  keys: 5,
  faultEveryMs: 4_000,
  net: 'loopback',
  workloads: ['register', 'set', 'bank'],
  rate: 20,
  accounts: 5,
  outDir: 'out/jepsen',
};

describe('jepsen (CI profile)', () => {
  it('schedules every kind of fault, the first three being kill-leader, pause and partition', () => {
    const plan = planFaults(new SimRng(OPTIONS.seed).fork('nemesis'), {
      durationMs: OPTIONS.timeMs,
      everyMs: OPTIONS.faultEveryMs,
      nodes: OPTIONS.nodes,
    });
    expect(new Set(plan.map((f) => f.kind))).toEqual(new Set(FAULT_KINDS));
    expect(plan.slice(0, 3).map((f) => f.kind)).toEqual(['kill-leader', 'pause', 'partition']);
  });

  it('a 3-node loopback run under faults is linearizable, conserves the bank, loses no set element', async () => {
    const lines: string[] = [];
    const { file, path, checked } = await runOnce({ ...OPTIONS, log: (line) => lines.push(line) });
    const text = `${report(file, checked)}\nsummary: ${summary(file, checked)}\nhistory: ${path}\n${lines.join('\n')}`;
    expect(checked.valid, text).toBe(true);
    expect(checked.results['contract']?.problems, text).toEqual([]);

    const ok = file.operations.filter((o) => o.outcome === 'ok');
    expect(ok.length, text).toBeGreaterThanOrEqual(300);
    for (const f of ['read', 'write', 'cas', 'add', 'transfer', 'readSet', 'readBank']) {
      expect(
        ok.some((o) => o.f === f),
        `an ok ${f}\n${text}`,
      ).toBe(true);
    }
    const done = file.faults.map((f) => f.what.split(' ')[0]);
    for (const kind of ['kill-leader', 'pause', 'partition']) expect(done, text).toContain(kind);
    expect(file.options['plannedFaults']).toEqual(expect.arrayContaining([...FAULT_KINDS]));
    expect(runningCount()).toBe(0);
  }, 90_000);
});
