import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const REQUIRED = ['bench', 'metric', 'unit', 'median', 'min', 'max', 'runs'];

function bench(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'test/bench/cli.ts', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 15_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('npm run bench', () => {
  it('prints one JSON object per figure for raft --json --quick', () => {
    const { status, stdout, stderr } = bench('raft', '--json', '--quick');
    expect(stderr).toBe('');
    expect(status).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines.length).toBeGreaterThan(0);
    const figures = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    for (const f of figures) {
      expect(Object.keys(f).slice(0, REQUIRED.length)).toEqual(REQUIRED);
      expect(f.bench).toBe('raft');
      expect(f.runs).toBe(1);
      expect(typeof f.median).toBe('number');
      expect(f.median as number).toBeGreaterThan(0);
      expect(f.min as number).toBeLessThanOrEqual(f.median as number);
      expect(f.max as number).toBeGreaterThanOrEqual(f.median as number);
    }
    const throughput = figures.filter((f) => f.metric === 'commit_throughput');
    expect(throughput.map((f) => f.batch)).toEqual([1, 64]);
    expect(throughput.every((f) => f.nodes === 3 && f.entryBytes === 200)).toBe(true);
  });

  it('exits 2 with one line for an unknown benchmark or a bad flag', () => {
    for (const args of [['nope'], ['raft', '--runs', '0'], ['raft', '--fast']]) {
      const { status, stdout, stderr } = bench(...args);
      expect(status).toBe(2);
      expect(stdout).toBe('');
      expect(stderr.trimEnd().split('\n')).toHaveLength(1);
    }
  });

  it('lists the benchmarks without a name', () => {
    const { status, stdout } = bench();
    expect(status).toBe(0);
    expect(stdout).toMatch(/^\s+raft\s+\S/m);
  });
});
