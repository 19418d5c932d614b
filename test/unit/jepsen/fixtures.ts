/**
 * Histories for the checker tests: a small builder for hand-written ones, and a generator that
 * runs a real sequential register and then records it with random overlaps, timeouts and
 * failures — so every history it yields is linearizable by construction.
 */
import type { Operation, RegisterValue } from '../../jepsen/history.js';

type Spec = Omit<Operation, 'id' | 'node' | 'key'> & { node?: number; key?: string };

/** Builds one key's ops with ids in creation order; times are [invoked, completed] in ms. */
export function registerOps(key = 'r') {
  let id = 0;
  const make = (s: Spec): Operation => ({ id: id++, node: s.process % 3, key, ...s });
  const ok = (
    f: 'read' | 'write' | 'cas',
    p: number,
    t: [number, number],
    input: unknown,
    out: RegisterValue,
  ) =>
    make({
      process: p,
      f,
      input,
      invokedAt: t[0],
      completedAt: t[1],
      outcome: 'ok',
      output: out,
      status: 200,
    });
  return {
    read: (p: number, t: [number, number], value: number, revision: number) =>
      ok('read', p, t, undefined, { value, revision }),
    /** `answered` is what the answer carried, when it is not what the write wrote. */
    write: (p: number, t: [number, number], value: number, revision: number, answered = value) =>
      ok('write', p, t, { value }, { value: answered, revision }),
    cas: (p: number, t: [number, number], ifRevision: number, value: number, revision: number) =>
      ok('cas', p, t, { value, ifRevision }, { value, revision }),
    casMismatch: (p: number, t: [number, number], ifRevision: number, value: number) =>
      make({
        process: p,
        f: 'cas',
        input: { value, ifRevision },
        invokedAt: t[0],
        completedAt: t[1],
        outcome: 'fail',
        status: 412,
        error: 'REVISION_MISMATCH',
      }),
    writeFail: (p: number, t: [number, number], value: number) =>
      make({
        process: p,
        f: 'write',
        input: { value },
        invokedAt: t[0],
        completedAt: t[1],
        outcome: 'fail',
        status: 503,
        error: 'NO_QUORUM',
      }),
    writeInfo: (p: number, at: number, value: number) =>
      make({ process: p, f: 'write', input: { value }, invokedAt: at, outcome: 'info', error: 'timeout' }),
    casInfo: (p: number, at: number, ifRevision: number, value: number) =>
      make({
        process: p,
        f: 'cas',
        input: { value, ifRevision },
        invokedAt: at,
        outcome: 'info',
        error: 'timeout',
      }),
    readInfo: (p: number, at: number) =>
      make({ process: p, f: 'read', invokedAt: at, outcome: 'info', error: 'timeout' }),
  };
}

/** One client call as the generator plans it, before the register decides its answer. */
export interface PlannedOp {
  readonly slot: number;
  /** Idle time before the call, time from call to taking effect, and from that to the answer. */
  readonly gap: number;
  readonly lin: number;
  readonly tail: number;
  readonly kind: 'read' | 'write' | 'cas';
  readonly value: number;
  /** cas: send the current revision (it applies) or a stale one (412). */
  readonly casHit: boolean;
  /** ok: answered; applied/lost: timed out after or before taking effect; fail: refused (503). */
  readonly fate: 'ok' | 'applied' | 'lost' | 'fail';
}

/**
 * Runs `plan` against one true register: each op takes effect at its own instant inside its
 * interval, in that order, so the recorded history is linearizable.
 */
export function runRegister(
  plan: readonly PlannedOp[],
  init: RegisterValue,
  key = 'r',
  firstId = 0,
): Operation[] {
  const free: number[] = [];
  const proc: number[] = [];
  let nextProcess = 100;
  const timed = plan.map((p, index) => {
    const invokedAt = (free[p.slot] ?? 0) + p.gap;
    const at = invokedAt + p.lin;
    const completedAt = at + p.tail;
    free[p.slot] = completedAt + 0.5;
    const process = proc[p.slot] ?? p.slot;
    // A timed-out client's process is retired (Jepsen's rule: one open op per process).
    proc[p.slot] = p.fate === 'applied' || p.fate === 'lost' ? nextProcess++ : process;
    return { p, index, invokedAt, at, completedAt, process };
  });
  let state = init;
  const ops: Operation[] = [];
  for (const t of [...timed].sort((a, b) => a.at - b.at || a.index - b.index)) {
    const { p } = t;
    const input =
      p.kind === 'read'
        ? undefined
        : p.kind === 'write'
          ? { value: p.value }
          : { value: p.value, ifRevision: p.casHit ? state.revision : state.revision + 1 };
    const base = { id: firstId + t.index, process: t.process, node: p.slot % 3, f: p.kind, key, input };
    const applies = p.fate === 'ok' || p.fate === 'applied';
    const matches = p.kind !== 'cas' || p.casHit;
    if (p.fate === 'fail') {
      ops.push({ ...base, invokedAt: t.invokedAt, completedAt: t.completedAt, outcome: 'fail', status: 503 });
      continue;
    }
    if (applies && matches && p.kind !== 'read') state = { value: p.value, revision: state.revision + 1 };
    if (p.fate !== 'ok') {
      ops.push({ ...base, invokedAt: t.invokedAt, outcome: 'info', error: 'timeout' });
    } else if (!matches) {
      ops.push({
        ...base,
        invokedAt: t.invokedAt,
        completedAt: t.completedAt,
        outcome: 'fail',
        status: 412,
        error: 'REVISION_MISMATCH',
      });
    } else {
      ops.push({ ...base, invokedAt: t.invokedAt, completedAt: t.completedAt, outcome: 'ok', output: state });
    }
  }
  return ops.sort((a, b) => a.id - b.id);
}

/** A small seeded PRNG (mulberry32) for the generated histories that are not fast-check's. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random plan: `slots` concurrent clients, `infoRate` of calls timing out. */
export function randomPlan(
  random: () => number,
  n: number,
  { slots = 6, infoRate = 0.1, failRate = 0.03, values = 10 } = {},
): PlannedOp[] {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  return Array.from({ length: n }, () => {
    const r = random();
    const fate =
      r < infoRate / 2 ? 'applied' : r < infoRate ? 'lost' : r < infoRate + failRate ? 'fail' : 'ok';
    return {
      slot: Math.floor(random() * slots),
      gap: random() * 5,
      lin: random() * 10,
      tail: random() * 10,
      kind: pick(['read', 'read', 'write', 'cas'] as const),
      value: Math.floor(random() * values),
      casHit: random() < 0.6,
      fate,
    };
  });
}
