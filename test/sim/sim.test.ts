/**
 * The deterministic simulation as a test: hundreds of seeds over 3- and 5-node clusters, each
 * with crashes, partitions and lossy links, every invariant checked after every step, and
 * liveness once the faults end. Also: a seed replays exactly, and the checker does catch a
 * broken history (a checker that cannot fail proves nothing).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runSeed, type RunResult } from './run.js';
import { NodeStorage } from './storage.js';

/** Steps per seed: about 40 s of virtual time; tuned so that this file stays well under 3 minutes. */
const STEPS = 8000;
const SEEDS_PER_SIZE = 150;

function failureReport(r: RunResult): string {
  const v = r.violation ?? { invariant: '?', detail: '' };
  const tail = r.trace.slice(-25).map((l) => `      ${l}`);
  const replay = `    replay: npm run sim -- --seeds ${r.seed} --nodes ${r.nodes} --steps ${STEPS}`;
  return [`seed ${r.seed} (${r.nodes} nodes): ${v.invariant}: ${v.detail}`, replay, ...tail].join('\n');
}

function runMany(nodes: number, first: number, count: number): { failures: string[]; committed: number } {
  const failures: string[] = [];
  let committed = 0;
  for (let seed = first; seed < first + count; seed++) {
    const r = runSeed({ seed, nodes, steps: STEPS });
    committed += r.stats['committed'] ?? 0;
    if (!r.ok) failures.push(failureReport(r));
  }
  return { failures, committed };
}

describe('raft simulation', () => {
  it(`stays safe and live over ${SEEDS_PER_SIZE} seeds of 3-node clusters`, () => {
    const { failures, committed } = runMany(3, 1, SEEDS_PER_SIZE);
    // Only the first failures, in full: enough to start from, short enough to read.
    expect(failures.slice(0, 3).join('\n\n'), `${failures.length} of ${SEEDS_PER_SIZE} seeds failed`).toBe(
      '',
    );
    expect(committed).toBeGreaterThan(SEEDS_PER_SIZE * 20);
  }, 170_000);

  it(`stays safe and live over ${SEEDS_PER_SIZE} seeds of 5-node clusters`, () => {
    const { failures, committed } = runMany(5, 100_001, SEEDS_PER_SIZE);
    expect(failures.slice(0, 3).join('\n\n'), `${failures.length} of ${SEEDS_PER_SIZE} seeds failed`).toBe(
      '',
    );
    expect(committed).toBeGreaterThan(SEEDS_PER_SIZE * 20);
  }, 170_000);

  it('replays a seed exactly', () => {
    const a = runSeed({ seed: 4242, nodes: 5, steps: 1500 });
    const b = runSeed({ seed: 4242, nodes: 5, steps: 1500 });
    const c = runSeed({ seed: 4243, nodes: 5, steps: 1500 });
    expect(b.fingerprint).toBe(a.fingerprint);
    expect(b.trace).toEqual(a.trace);
    expect(b.stats).toEqual(a.stats);
    expect(c.fingerprint).not.toBe(a.fingerprint);
  });
});

describe('the simulator catches a broken driver', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('reports lost committed entries when the driver never syncs its disk', () => {
    const persist = NodeStorage.prototype.persistReady;
    vi.spyOn(NodeStorage.prototype, 'persistReady').mockImplementation(function (this: NodeStorage, rd) {
      persist.call(this, rd, false);
    });
    const r = runSeed({ seed: 7, nodes: 3, steps: 2000 });
    expect(r.ok).toBe(false);
    expect(r.violation?.invariant).toBe('durability');
  });
});
