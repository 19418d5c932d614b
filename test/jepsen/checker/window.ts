/**
 * The shortest failing window: when a key's history is not linearizable, the smallest run of
 * consecutive operations (in invocation order) that cannot be linearized on its own.
 *
 * A window [i..j] is checked as a history of its own:
 * - it starts from any state that a configuration of the whole-history search reached "at cut i":
 *   one linearizing only ops before i, and every required op that completed before op i was
 *   invoked. The whole search was exhaustive (it failed), so this is every state a valid
 *   linearization of the prefix can leave — over-approximated per state by the hull of its cuts;
 * - ops across its edges may take effect inside it, so they come along as optional ops (their
 *   answers still checked): those invoked before op i and not over when it was invoked (every
 *   earlier `info` op among them), and those invoked after op j while a required op of the window
 *   was still running. Being optional they can only help the window linearize, never make it fail.
 * So a window that fails is a real witness: no valid prefix can be continued through it.
 *
 * The search for it: the whole-history search reports the lowest op that no configuration got
 * past, which ends the shortest failing prefix [0..j0] (verified, and moved later if it is not).
 * Then the latest start i with [i..j0] failing, by galloping then bisecting on the size; then, in
 * case a later violation is sharper, each later end j is tried with a window one op shorter than
 * the best so far (two pointers, so O(n) window checks, each a small search).
 */
import type { Operation } from '../history.js';
import type { Model } from './model.js';
import { search, type Budget, type ReachedState, type SearchOp } from './search.js';
import { formatOps } from './format.js';

const EDGES_SHOWN = 10;
/** Window sizes tried before the (costly) whole prefix. */
const SMALL = 32;
/** Ends tried past the search's stopping point before whole prefixes. */
const NEAR = 8;

export interface FailingWindow<S> {
  /** The window's own ops, in invocation order. */
  readonly ops: readonly Operation[];
  /** Ops across its edges that were allowed (not required) to take effect inside it. */
  readonly edges: readonly Operation[];
  /** The states it was tried from. */
  readonly starts: readonly S[];
  /** How many of the key's ops come before it. */
  readonly before: number;
  /** False when the window search ran out of its allowance: a failing window, maybe not the shortest. */
  readonly shortest: boolean;
}

/** Window [first..last] of `ops` (sorted by invocation) as a search input, edges made optional. */
export function windowOps(
  ops: readonly SearchOp[],
  first: number,
  last: number,
): { ops: SearchOp[]; edges: Operation[] } {
  const start = ops[first]!.op.invokedAt;
  const result: SearchOp[] = [];
  const edges: Operation[] = [];
  const optional = (s: SearchOp): void => {
    result.push(s.required ? { ...s, required: false } : s);
    edges.push(s.op);
  };
  for (let k = 0; k < first; k++) if (ops[k]!.returnAt >= start) optional(ops[k]!);
  let end = -Infinity;
  for (let k = first; k <= last; k++) {
    result.push(ops[k]!);
    if (ops[k]!.required) end = Math.max(end, ops[k]!.returnAt);
  }
  for (let k = last + 1; k < ops.length && ops[k]!.op.invokedAt <= end; k++) optional(ops[k]!);
  return { ops: result, edges };
}

function startsAt<S>(reached: readonly ReachedState<S>[], i: number): S[] {
  return reached.filter((r) => r.from <= i && i <= r.to).map((r) => r.state);
}

export function shortestFailingWindow<S>(
  ops: readonly SearchOp[],
  model: Model<S>,
  reached: readonly ReachedState<S>[],
  stuckAt: number,
  budget: Budget,
): FailingWindow<S> | undefined {
  const n = ops.length;
  if (n === 0) return undefined;
  let exhausted = false;
  const fails = (i: number, j: number): boolean => {
    if (exhausted) return false;
    const starts = i === 0 ? [model.init] : startsAt(reached, i);
    if (starts.length === 0) return false;
    const out = search(windowOps(ops, i, j).ops, model, starts, budget);
    if (out.verdict === 'unknown') exhausted = true;
    return out.verdict === 'invalid';
  };
  const make = (i: number, j: number): FailingWindow<S> => {
    const w = windowOps(ops, i, j);
    return {
      ops: ops.slice(i, j + 1).map((s) => s.op),
      edges: w.edges,
      starts: i === 0 ? [model.init] : startsAt(reached, i),
      before: i,
      shortest: !exhausted,
    };
  };

  // The smallest failing window ending at j, galloping over sizes 1, 2, 4, … up to `limit`
  // then bisecting; undefined when none up to `limit` fails. A size of j + 1 is the prefix.
  const smallestEndingAt = (j: number, limit: number): number | undefined => {
    let okSize = 0;
    let size = 1;
    while (size < limit && !fails(j - size + 1, j)) {
      okSize = size;
      size *= 2;
    }
    if (size >= limit) {
      if (!fails(j - limit + 1, j)) return undefined;
      size = limit;
    }
    while (okSize + 1 < size) {
      const mid = (okSize + size) >>> 1;
      if (fails(j - mid + 1, j)) size = mid;
      else okSize = mid;
    }
    return size;
  };

  // No configuration got past op stuckAt, so windows ending there should fail. Small ones are
  // tried first: the prefix ending there fails only after exploring all it can reach, which is
  // what the whole search just did. When even the prefix does not fail (edge effects), look
  // further: [0..n-1] is the whole history, which failed.
  // The search's pruning can stop it a few ops early (those concurrent with the culprit), so
  // the next few ends are tried with small windows too.
  let j0 = Math.min(Math.max(stuckAt, 0), n - 1);
  let small: number | undefined;
  for (let j = j0; j < Math.min(n, j0 + NEAR) && small === undefined && !exhausted; j++) {
    small = smallestEndingAt(j, Math.min(SMALL, j + 1));
    if (small !== undefined) j0 = j;
  }
  if (small === undefined && !fails(0, j0)) {
    let lo = j0;
    let step = 1;
    while (lo + step < n - 1 && !fails(0, lo + step)) {
      lo += step;
      step *= 2;
    }
    let hi = Math.min(lo + step, n - 1);
    while (lo + 1 < hi) {
      const mid = (lo + hi) >>> 1;
      if (fails(0, mid)) hi = mid;
      else lo = mid;
    }
    j0 = hi;
    small = smallestEndingAt(j0, Math.min(SMALL, j0 + 1));
  }
  if (exhausted) return make(0, n - 1);
  // Larger than SMALL: the prefix [0..j0] fails, bisect between SMALL and it.
  const large = (): number => {
    let okSize = Math.min(SMALL, j0 + 1);
    let failing = j0 + 1;
    while (okSize + 1 < failing) {
      const mid = (okSize + failing) >>> 1;
      if (fails(j0 - mid + 1, j0)) failing = mid;
      else okSize = mid;
    }
    return failing;
  };
  const size = small ?? large();
  let best = { first: j0 - size + 1, last: j0 };
  let bestSize = size;

  // A later violation may need fewer ops: try each later end with one op fewer than the best.
  for (let j = j0 + 1; j < n && bestSize > 1 && !exhausted; j++) {
    while (bestSize > 1 && fails(j - bestSize + 2, j)) {
      bestSize--;
      best = { first: j - bestSize + 1, last: j };
    }
  }
  return make(best.first, best.last);
}

/** The window as text: a heading, the states it starts from, its ops, then its edge ops. */
export function renderWindow<S>(window: FailingWindow<S>, model: Model<S>, title: string): string[] {
  const describe = (s: S): string => (model.describe ? model.describe(s) : model.stateKey(s));
  const ops = window.ops;
  const from = ops[0]?.invokedAt ?? 0;
  const to = Math.max(...ops.map((o) => o.completedAt ?? o.invokedAt));
  const lines = [
    `${title}: not linearizable; ${window.shortest ? 'shortest' : 'a'} failing window: ` +
      `${ops.length} op${ops.length === 1 ? '' : 's'}, ${from.toFixed(1)}–${to.toFixed(1)} ms` +
      ` (after ${window.before} earlier op${window.before === 1 ? '' : 's'})`,
  ];
  const shown = window.starts.slice(0, 6).map(describe).join('; ');
  const more = window.starts.length > 6 ? `; … ${window.starts.length - 6} more` : '';
  lines.push(
    window.before === 0
      ? `  from the initial state: ${shown}`
      : `  from any state the ops before it can leave: ${shown}${more}`,
  );
  // Earlier info ops all count as edges; the few nearest the window are the ones worth reading.
  const edges = [...window.edges]
    .sort((a, b) => Math.abs(a.invokedAt - from) - Math.abs(b.invokedAt - from))
    .slice(0, EDGES_SHOWN);
  const all = [...window.ops, ...edges].sort((a, b) => a.invokedAt - b.invokedAt || a.id - b.id);
  const inWindow = new Set(window.ops);
  lines.push(...formatOps(all, (op) => (inWindow.has(op) ? '    ' : '  ~ ')));
  if (window.edges.length > 0) {
    const hidden = window.edges.length - edges.length;
    lines.push(
      `  (~ = open across the window's edges: allowed, not required, to take effect inside it` +
        `${hidden > 0 ? `; ${hidden} more not shown` : ''})`,
    );
  }
  return lines;
}
