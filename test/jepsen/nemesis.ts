/**
 * The nemesis: a schedule of faults made from the seed before the run (kinds drawn from a shuffled
 * bag, so every kind comes once before any comes twice), then carried out against the real
 * processes, each fault healed before the next. Targets are roles ("the leader", "a follower")
 * resolved when the fault starts, since who leads depends on timing; the seeded `pick` chooses
 * among the candidates. Everything it does goes into the history's faults.
 */
import type { SimRng } from '../sim/rng.js';
import type { ApiClient } from './client.js';
import type { JepsenCluster } from './cluster.js';
import type { Partitioner } from './host.js';
import { TransportFailure } from './http.js';
import type { Recorder } from './recorder.js';
import { hold } from './wait.js';

export const FAULT_KINDS = ['kill-leader', 'kill-follower', 'pause', 'partition', 'snapshot-crash'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface PlannedFault {
  readonly kind: FaultKind;
  /** Start, in ms from the start of the load. */
  readonly atMs: number;
  /** How long the fault is held before it is healed. */
  readonly holdMs: number;
  /** Chooses the target among the candidates found when the fault starts. */
  readonly pick: number;
  /** pause: leader | follower; partition: isolate | leader-minority; snapshot-crash: the step. */
  readonly variant: string;
  /** Nodes hit at once: 2 only with 5 or more nodes (a majority stays). */
  readonly width: 1 | 2;
}

export interface NemesisOptions {
  /** How long the load runs (ms): no fault starts after it. */
  readonly durationMs: number;
  /** About one fault this often (ms). */
  readonly everyMs: number;
  readonly nodes: number;
  readonly kinds?: readonly FaultKind[];
}

const VARIANTS: Readonly<Record<FaultKind, readonly string[]>> = {
  'kill-leader': ['-'],
  'kill-follower': ['-'],
  pause: ['leader', 'follower'],
  partition: ['isolate', 'leader-minority'],
  'snapshot-crash': ['partly-written', 'saved'],
};
const MAX_HOLD_MS = 3_000;

export function planFaults(rng: SimRng, options: NemesisOptions): PlannedFault[] {
  const kinds = options.kinds ?? FAULT_KINDS;
  const plan: PlannedFault[] = [];
  let bag: FaultKind[] = [];
  for (
    let at = options.everyMs * (0.4 + 0.2 * rng.float());
    at + MAX_HOLD_MS < options.durationMs;
    at += options.everyMs * (0.85 + 0.3 * rng.float())
  ) {
    if (bag.length === 0) bag = rng.shuffle(kinds);
    const kind = bag.shift() as FaultKind;
    plan.push({
      kind,
      atMs: Math.round(at),
      holdMs: rng.between(1_000, MAX_HOLD_MS),
      pick: rng.int(1_000_000),
      variant: rng.pick(VARIANTS[kind]),
      width: options.nodes >= 5 && kind !== 'partition' && rng.chance(0.3) ? 2 : 1,
    });
  }
  return plan;
}

export interface NemesisParts {
  readonly cluster: JepsenCluster;
  readonly partitioner: Partitioner;
  /** The runner's own client (faults route, snapshot crash), apart from the workload's. */
  readonly admin: ApiClient;
  readonly recorder: Recorder;
  readonly signal: AbortSignal;
  readonly log: (line: string) => void;
}

/** Runs the plan; returns the problems met (a node that would not restart is one). */
export async function runNemesis(
  plan: readonly PlannedFault[],
  parts: NemesisParts,
  durationMs: number,
): Promise<string[]> {
  const problems: string[] = [];
  for (const fault of plan) {
    await hold(fault.atMs - parts.recorder.now(), parts.signal);
    if (parts.signal.aborted) break;
    // Restarts can take longer than planned: a fault that cannot end within the load is no use.
    if (parts.recorder.now() + fault.holdMs > durationMs) {
      parts.recorder.fault(`skipped ${fault.kind}: too late (planned at ${fault.atMs} ms)`, []);
      continue;
    }
    try {
      await carryOut(fault, parts);
    } catch (err) {
      const message = `${fault.kind} at ${fault.atMs} ms: ${err instanceof Error ? err.message : String(err)}`;
      parts.recorder.fault(`error ${message}`, []);
      problems.push(message);
      parts.log(`nemesis: ${message}`);
    }
  }
  return problems;
}

/** Heals everything: the network, paused and dead nodes; then the cluster must converge. */
export async function healAll(parts: NemesisParts, convergeMs: number): Promise<void> {
  const { cluster, recorder } = parts;
  await parts.partitioner.heal();
  const paused = cluster.nodes.filter((n) => n.state === 'paused').map((n) => n.index);
  for (const i of paused) cluster.resume(i);
  const down = cluster.nodes.filter((n) => n.state === 'down').map((n) => n.index);
  await Promise.all(down.map((i) => cluster.restart(i)));
  recorder.fault('heal-all', [...paused, ...down]);
  await cluster.converge(convergeMs);
}

async function carryOut(fault: PlannedFault, parts: NemesisParts): Promise<void> {
  const { cluster, recorder, signal } = parts;
  const up = cluster.nodes.filter((n) => n.state === 'up').map((n) => n.index);
  const needsLeader =
    fault.kind === 'kill-leader' ||
    fault.kind === 'kill-follower' ||
    (fault.kind === 'pause' && fault.variant === 'leader') ||
    (fault.kind === 'partition' && fault.variant === 'leader-minority');
  const leader = needsLeader ? await cluster.leader(5_000) : undefined;
  if (needsLeader && leader === undefined) {
    recorder.fault(`skipped ${fault.kind}: no leader within 5 s`, []);
    return;
  }
  const followers = rotate(
    up.filter((i) => i !== leader),
    fault.pick,
  );
  const anyNode = rotate(up, fault.pick);

  switch (fault.kind) {
    case 'kill-leader':
    case 'kill-follower': {
      const targets =
        fault.kind === 'kill-leader'
          ? [leader as number, ...followers.slice(0, fault.width - 1)]
          : followers.slice(0, fault.width);
      recorder.fault(fault.kind, targets);
      await Promise.all(targets.map((i) => cluster.kill(i)));
      await hold(fault.holdMs, signal);
      await restart(parts, targets);
      return;
    }
    case 'pause': {
      const targets =
        fault.variant === 'leader'
          ? [leader as number, ...followers.slice(0, fault.width - 1)]
          : followers.slice(0, fault.width);
      recorder.fault(`pause ${fault.variant}`, targets);
      for (const i of targets) cluster.pause(i);
      await hold(fault.holdMs, signal);
      for (const i of targets) cluster.resume(i);
      recorder.fault('resume', targets);
      return;
    }
    case 'partition': {
      const all = cluster.nodes.map((n) => n.index);
      const minority =
        fault.variant === 'isolate'
          ? anyNode.slice(0, 1)
          : [leader as number, ...followers.slice(0, Math.floor((all.length - 1) / 2) - 1)];
      const majority = all.filter((i) => !minority.includes(i));
      recorder.fault(`partition ${fault.variant} ${JSON.stringify([minority, majority])}`, minority);
      await parts.partitioner.partition([minority, majority]);
      await hold(fault.holdMs, signal);
      await parts.partitioner.heal();
      recorder.fault('heal', minority);
      return;
    }
    case 'snapshot-crash': {
      const target = anyNode[0];
      if (target === undefined) return;
      recorder.fault(`snapshot-crash ${fault.variant}`, [target]);
      const answer = await crashInSnapshot(parts, target, fault.variant);
      if (answer !== undefined) {
        recorder.fault(`no-crash in snapshot: ${answer}`, [target]);
        return;
      }
      if (!(await cluster.waitForExit(target, 10_000))) {
        await cluster.kill(target);
        throw new Error(`n${target} did not die in its snapshot within 10 s (killed)`);
      }
      recorder.fault('crashed', [target]);
      await hold(fault.holdMs, signal);
      await restart(parts, [target]);
      return;
    }
  }
}

/** Asks the node to snapshot and die; undefined when the request died with it (as it should). */
async function crashInSnapshot(parts: NemesisParts, i: number, step: string): Promise<string | undefined> {
  try {
    const answer = await parts.admin.call(i, 'POST', '/debug/crash-in-snapshot', {
      body: { at: step },
      timeoutMs: 10_000,
    });
    return `${answer.status} ${answer.text.slice(0, 200)}`;
  } catch (err) {
    if (err instanceof TransportFailure) return undefined;
    throw err;
  }
}

async function restart(parts: NemesisParts, targets: readonly number[]): Promise<void> {
  await Promise.all(targets.map((i) => parts.cluster.restart(i)));
  parts.recorder.fault('restart', targets);
}

/** The candidates starting at the seeded pick, so the choice is seeded but always valid. */
function rotate(items: readonly number[], pick: number): number[] {
  if (items.length === 0) return [];
  const start = pick % items.length;
  return [...items.slice(start), ...items.slice(0, start)];
}
