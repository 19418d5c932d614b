/** The whole-history entry point, its report, and a history's round trip through a file. */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { HistoryFile, Operation } from '../../jepsen/history.js';
import {
  checkHistory,
  formatReport,
  loadHistory,
  parseHistory,
  saveHistory,
} from '../../jepsen/checker/index.js';
import { registerOps } from './fixtures.js';

function file(operations: Operation[]): HistoryFile {
  return {
    seed: 7,
    nodes: 3,
    clients: 6,
    options: { workload: 'mixed' },
    registers: { r: { value: 0, revision: 0 } },
    bank: { accounts: ['a', 'b'], total: 20 },
    operations,
    faults: [
      { at: 1000, what: 'partition [0] | [1 2]', nodes: [0] },
      { at: 2000, what: 'heal', nodes: [] },
    ],
  };
}

const base = { process: 5, node: 1 };
const setAndBank = (id: number): Operation[] => [
  { ...base, id, f: 'add', key: 'set', input: 'x1', invokedAt: 0, completedAt: 5, outcome: 'ok' },
  {
    ...base,
    id: id + 1,
    f: 'readSet',
    key: 'set',
    invokedAt: 50,
    completedAt: 55,
    outcome: 'ok',
    output: ['x1'],
  },
  {
    ...base,
    id: id + 2,
    f: 'transfer',
    key: 'bank',
    input: { from: 'a', to: 'b', amount: 3 },
    invokedAt: 0,
    outcome: 'info',
  },
  {
    ...base,
    id: id + 3,
    f: 'readBank',
    key: 'bank',
    invokedAt: 60,
    completedAt: 65,
    outcome: 'ok',
    output: { a: 7, b: 13 },
  },
];

describe('checkHistory and formatReport', () => {
  it('runs each workload present and is valid when all are', () => {
    const h = registerOps();
    const history = file([h.write(0, [0, 10], 1, 1), h.read(1, [20, 30], 1, 1), ...setAndBank(100)]);
    const check = checkHistory(history);
    expect(check.valid).toBe(true);
    expect(Object.keys(check.results).sort()).toEqual(['bank', 'register', 'set']);
    const report = formatReport(history, check);
    expect(report).toContain('history: seed 7, 3 nodes, 6 clients, 6 ops, 2 faults');
    expect(report).toMatch(/register +2 ops: ok 2, fail 0, info 0; keys 1/);
    expect(report).toMatch(/set +2 ops: ok 2, fail 0, info 0; acked 1, failed 0, indeterminate 0/);
    expect(report).toMatch(
      /bank +2 ops: ok 1, fail 0, info 1; transfersOk 0, transfersFail 0, transfersInfo 1/,
    );
    expect(report).toContain('faults: partition ×1, heal ×1');
    expect(report).toContain('verdict: VALID');
  });

  it('is invalid when one checker is, and prints the failing window', () => {
    const h = registerOps();
    const history = file([h.write(0, [0, 10], 68, 1, 69), h.write(1, [1, 11], 69, 1), ...setAndBank(100)]);
    const check = checkHistory(history);
    expect(check.verdict).toBe('invalid');
    expect(check.results.set?.valid).toBe(true);
    const report = formatReport(history, check);
    expect(report).toContain('verdict: INVALID');
    expect(report).toContain('register r: not linearizable');
    expect(report).toMatch(/write +value=68 +ok +value=69 revision=1/);
  });

  it("is 'unknown', not valid, when the register search hits its bound or nothing ran", () => {
    const h = registerOps();
    const ops = Array.from({ length: 10 }, (_, i) => h.writeInfo(i, i, 100 + i));
    ops.push(h.read(20, [50, 60], 0, 10));
    const check = checkHistory({ ...file(ops), bank: undefined }, { maxStates: 3 });
    expect(check.verdict).toBe('unknown');
    expect(check.valid).toBe(false);
    expect(checkHistory({ ...file([]), bank: undefined }).verdict).toBe('unknown');
  });
});

describe('saveHistory and loadHistory', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('round-trips a history, one operation per line', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'jepsen-history-'));
    dirs.push(dir);
    const h = registerOps();
    const history = file([h.write(0, [0, 10], 1, 1), h.writeInfo(1, 5, 2), ...setAndBank(100)]);
    const path = join(dir, 'history.json');
    await saveHistory(path, history);
    expect(await loadHistory(path)).toEqual(history);
    const lines = (await readFile(path, 'utf8')).split('\n');
    expect(lines.filter((l) => l.startsWith('    {'))).toHaveLength(6);
  });

  it('names what a malformed history lacks', () => {
    expect(() => parseHistory('[]')).toThrow('no operations array');
    expect(() => parseHistory('{"operations": [], "faults": []}')).toThrow('no registers');
    expect(() => parseHistory('{"operations": [{"id": 1}], "registers": {}, "faults": []}')).toThrow(
      'operation 0 lacks',
    );
  });
});
