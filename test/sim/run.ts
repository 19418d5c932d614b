/**
 * One simulated run from one seed: bootstrap a cluster of real Replicas, run the workload with
 * faults for the first part of the steps, heal everything, keep going without faults, and require
 * liveness within a bound. Every invariant is checked after every step; the first violation ends
 * the run.
 */
import type { PlantedBug } from './cluster.js';
import { InvariantChecker } from './invariants.js';
import { Cluster, type ClusterConfig } from './cluster.js';
import { FaultInjector } from './faults.js';
import { LivenessProbe } from './liveness.js';
import { CALM_LINKS } from './network.js';
import { SimRng } from './rng.js';
import { Trace } from './trace.js';
import { Violation } from './violation.js';
import { Workload } from './workload.js';

export interface RunOptions {
  readonly seed: number;
  /** Voters at bootstrap (3, 5 or 7 in practice). */
  readonly nodes: number;
  readonly steps: number;
  /** Faults are injected during this fraction of the steps, then healed. */
  readonly faultFraction?: number;
  /** Lines of trace kept for a failure report. */
  readonly traceLines?: number;
  /** Test-only: a reordering planted in every Replica (the checker must catch it). */
  readonly plantedBug?: PlantedBug;
}

export interface RunResult {
  readonly ok: boolean;
  readonly seed: number;
  readonly nodes: number;
  readonly violation?: { readonly invariant: string; readonly detail: string };
  /** The last steps before the end of the run (on failure: before the violation). */
  readonly trace: readonly string[];
  /** Identifies the whole trace: two runs of one seed must have equal fingerprints. */
  readonly fingerprint: string;
  readonly stats: Readonly<Record<string, number>>;
}

export const TICK_MS = 50;
export const ELECTION_TICKS = 10;
export const HEARTBEAT_TICKS = 2;
/** An election timeout is random in [E, 2E) ticks: the bound is ten of the longest. */
export const LIVENESS_BOUND_MS = 10 * 2 * ELECTION_TICKS * TICK_MS;

function clusterConfig(rng: SimRng, plantedBug: PlantedBug | undefined): ClusterConfig {
  return {
    ...(plantedBug ? { plantedBug } : {}),
    // Small, so that snapshots, compaction and snapshot transfers happen in every run.
    snapshotEvery: rng.pick([20, 50, 200]),
    maxTrailing: 4,
    tickMs: TICK_MS,
    electionTicks: ELECTION_TICKS,
    heartbeatTicks: HEARTBEAT_TICKS,
    links: CALM_LINKS,
    raft: {
      preVote: true,
      checkQuorum: true,
      // Small limits, varied per seed, so that flow control and chunking are exercised.
      maxInflightMessages: rng.between(1, 8),
      maxInflightBytes: rng.pick([1024, 4096, 64 * 1024]),
      maxMessageBytes: rng.pick([256, 1024, 8192]),
      snapshotChunkBytes: 64,
      snapshotWindow: rng.between(1, 4),
      maxApplyBytes: rng.pick([512, 4096, 1 << 20]),
    },
  };
}

/** The orderings only a running Replica has, which every CI run must show (sim.test.ts). */
export const ORDERING_COUNTERS = ['earlySends', 'acksBeforeLeaderSync', 'appliedWhileSyncing'] as const;

export async function runSeed(options: RunOptions): Promise<RunResult> {
  const { seed, nodes, steps } = options;
  const faultSteps = Math.min(steps, Math.floor(steps * (options.faultFraction ?? 0.7)));
  const rng = new SimRng(seed);
  const trace = new Trace(options.traceLines ?? 200);
  const ids = Array.from({ length: nodes }, (_, i) => `n${i + 1}`);
  // The first membership is committed in the log (bootstrap entries), not given up front.
  const checker = new InvariantChecker({ voters: [], learners: [] });
  const cluster = new Cluster(
    rng.fork('cluster'),
    clusterConfig(rng.fork('config'), options.plantedBug),
    checker,
    trace,
  );
  const workload = new Workload(cluster, rng.fork('workload'), {
    actionChance: 0.05,
    maxMembers: nodes + 2,
    minVoters: 3,
  });
  const faults = new FaultInjector(cluster, rng.fork('faults'), {
    faultChance: 0.01,
    maxActive: 3,
    minDurationMs: 100,
    maxDurationMs: 4000,
  });
  let probe: LivenessProbe | undefined;
  let step = 0;

  const result = (violation?: Violation): RunResult => {
    const s = cluster.stats;
    trace.add(
      cluster.now,
      `orderings: ${s.earlySends} appends sent before the leader's fsync (${s.acksBeforeLeaderSync} acknowledged ` +
        `before it finished), ${s.appliedWhileSyncing} applies while an fsync was in flight`,
    );
    return summary(violation);
  };
  const summary = (violation?: Violation): RunResult => ({
    ok: violation === undefined,
    seed,
    nodes,
    ...(violation ? { violation: { invariant: violation.invariant, detail: violation.detail } } : {}),
    trace: trace.lines(),
    fingerprint: trace.fingerprint(),
    stats: {
      steps: step,
      virtualMs: cluster.now,
      members: cluster.nodes.size,
      ...cluster.stats,
      ...workload.counts,
      ...faults.counts,
      ...checker.counts,
      committed: checker.maxCommitted,
      recoveredMs: probe?.doneAt === undefined ? -1 : probe.doneAt - probe.startedAt,
    },
  });

  try {
    cluster.bootstrap(ids);
    cluster.checkInvariants();
    // Past the last step, keep going (without new client work) until liveness is shown.
    for (step = 0; step < steps || !probe?.poll(); step++) {
      if (step === faultSteps) {
        faults.healAll();
        workload.operationsEnabled = false;
        probe = new LivenessProbe(cluster, cluster.now, LIVENESS_BOUND_MS);
      }
      if (step < steps) {
        if (step < faultSteps) faults.step();
        workload.step();
      }
      if (!(await cluster.step())) throw new Violation('liveness', 'nothing left to happen: no node is up');
      cluster.checkInvariants();
      probe?.poll();
    }
    return result();
  } catch (err) {
    if (err instanceof Violation) return result(err);
    const detail = err instanceof Error ? (err.stack ?? err.message) : String(err);
    return result(new Violation('simulator-error', detail));
  }
}
