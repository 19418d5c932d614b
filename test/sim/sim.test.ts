/**
 * The deterministic simulation as a test: hundreds of seeds over 3- and 5-node clusters of real
 * Replicas, each with crashes, partitions and lossy links, every invariant checked after every
 * step, and liveness once the faults end. Also: the orderings only a running Replica has (the
 * leader's traffic sent before its fsync, applies while a batch syncs) do occur; a seed replays
 * exactly; and the checker catches a broken driver and a reordering planted in the Replica (a
 * checker that cannot fail proves nothing).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ORDERING_COUNTERS, runSeed, type RunResult } from './run.js';
import { NodeStorage } from './storage.js';

/** Steps per seed: about 25-30 s of virtual time; tuned so that this file stays under a minute. */
const STEPS = 8000;
const SEEDS_PER_SIZE = 150;
/** The planted reordering must be caught within this many seeds. */
const PLANTED_BUG_SEEDS = 5;

function failureReport(r: RunResult): string {
  const v = r.violation ?? { invariant: '?', detail: '' };
  const tail = r.trace.slice(-25).map((l) => `      ${l}`);
  const replay = `    replay: npm run sim -- --seeds ${r.seed} --nodes ${r.nodes} --steps ${STEPS}`;
  return [`seed ${r.seed} (${r.nodes} nodes): ${v.invariant}: ${v.detail}`, replay, ...tail].join('\n');
}

interface Totals {
  failures: string[];
  committed: number;
  /** Per ordering: the sum over seeds, and the seeds that showed it at least once. */
  orderings: Record<(typeof ORDERING_COUNTERS)[number], { total: number; seeds: number }>;
}

async function runMany(nodes: number, first: number, count: number): Promise<Totals> {
  const failures: string[] = [];
  let committed = 0;
  const orderings = Object.fromEntries(
    ORDERING_COUNTERS.map((k) => [k, { total: 0, seeds: 0 }]),
  ) as Totals['orderings'];
  for (let seed = first; seed < first + count; seed++) {
    const r = await runSeed({ seed, nodes, steps: STEPS });
    committed += r.stats['committed'] ?? 0;
    for (const k of ORDERING_COUNTERS) {
      const n = r.stats[k] ?? 0;
      orderings[k].total += n;
      if (n > 0) orderings[k].seeds++;
    }
    if (!r.ok) failures.push(failureReport(r));
  }
  return { failures, committed, orderings };
}

function expectSafeLiveAndReordered(t: Totals): void {
  // Only the first failures, in full: enough to start from, short enough to read.
  expect(t.failures.slice(0, 3).join('\n\n'), `${t.failures.length} of ${SEEDS_PER_SIZE} seeds failed`).toBe(
    '',
  );
  expect(t.committed).toBeGreaterThan(SEEDS_PER_SIZE * 20);
  // Each production-only ordering occurs in most seeds, not just somewhere.
  for (const k of ORDERING_COUNTERS) {
    expect(t.orderings[k].seeds, `seeds showing ${k}: ${JSON.stringify(t.orderings)}`).toBeGreaterThan(
      SEEDS_PER_SIZE / 2,
    );
  }
}

describe('raft simulation of real Replicas', () => {
  it(`stays safe and live over ${SEEDS_PER_SIZE} seeds of 3-node clusters, with early sends and applies while syncing`, async () => {
    expectSafeLiveAndReordered(await runMany(3, 1, SEEDS_PER_SIZE));
  }, 170_000);

  it(`stays safe and live over ${SEEDS_PER_SIZE} seeds of 5-node clusters, with early sends and applies while syncing`, async () => {
    expectSafeLiveAndReordered(await runMany(5, 100_001, SEEDS_PER_SIZE));
  }, 170_000);

  it('replays a seed exactly', async () => {
    const a = await runSeed({ seed: 4242, nodes: 5, steps: 1500 });
    const b = await runSeed({ seed: 4242, nodes: 5, steps: 1500 });
    const c = await runSeed({ seed: 4243, nodes: 5, steps: 1500 });
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

  it('reports entries applied before they are durable when the disk lies about its fsyncs', async () => {
    vi.spyOn(NodeStorage.prototype, 'syncThrough').mockImplementation(() => {});
    const r = await runSeed({ seed: 7, nodes: 3, steps: 2000 });
    expect(r.ok).toBe(false);
    expect(r.violation?.invariant).toBe('ready-contract');
    expect(r.violation?.detail).toMatch(/before it is durable/);
  });

  it(`catches a Replica that sends votes and acknowledgements before its fsync, within ${PLANTED_BUG_SEEDS} seeds`, async () => {
    let caught: RunResult | undefined;
    for (let seed = 1; seed <= PLANTED_BUG_SEEDS && !caught; seed++) {
      const r = await runSeed({ seed, nodes: 3, steps: STEPS, plantedBug: 'send-all-before-persist' });
      if (!r.ok) caught = r;
    }
    expect(caught, 'no seed caught the planted reordering').toBeDefined();
    // A safety property, not a bookkeeping check: a crash could lose a committed entry, or a node
    // could vote twice in a term.
    expect(['durability', 'double-vote']).toContain(caught?.violation?.invariant);
  }, 60_000);
});
