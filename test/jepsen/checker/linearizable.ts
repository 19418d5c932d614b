/**
 * Linearizability of one object's history against a Model (Herlihy & Wing). Callers check each
 * key on its own: linearizability is compositional (P-compositionality in Lowe's terms), and k
 * small searches are exponentially cheaper than one over all keys.
 */
import type { Operation } from '../history.js';
import { admitted, type Model } from './model.js';
import { search, type SearchOp, type SearchOutcome, type Verdict } from './search.js';
import { shortestFailingWindow, type FailingWindow } from './window.js';

export type { Verdict } from './search.js';

export interface LinearizableOptions {
  /** Most configurations the search may memoise before answering 'unknown' (default 5M). */
  readonly maxStates?: number;
  /** Allowance for finding the shortest failing window after a failure (default 1M). */
  readonly maxWindowStates?: number;
  /** Look for the failing window (default true). */
  readonly window?: boolean;
}

export interface LinearizableResult<S> {
  readonly verdict: Verdict;
  /** Ops that took part in the search, and those the model left out (most `fail` ones). */
  readonly ops: number;
  readonly dropped: number;
  /** Configurations the whole-history search memoised. */
  readonly explored: number;
  /** valid: the ops in a legal order (the `info` ops it left out never happened). */
  readonly linearization?: readonly Operation[];
  /** invalid: the first op that no explored linearization got past. */
  readonly stuck?: Operation;
  readonly window?: FailingWindow<S>;
}

export const DEFAULT_MAX_STATES = 5_000_000;

/** The ops the model admits, as the search takes them: by invocation, info ops optional. */
export function searchOps<S>(ops: readonly Operation[], model: Model<S>): SearchOp[] {
  return ops
    .filter((op) => admitted(model, op))
    .sort((a, b) => a.invokedAt - b.invokedAt || a.id - b.id)
    .map((op) =>
      op.outcome === 'info'
        ? { op, required: false, returnAt: Infinity }
        : { op, required: true, returnAt: op.completedAt ?? Infinity },
    );
}

export function checkLinearizable<S>(
  ops: readonly Operation[],
  model: Model<S>,
  options: LinearizableOptions = {},
): LinearizableResult<S> {
  const input = searchOps(ops, model);
  const budget = { remaining: options.maxStates ?? DEFAULT_MAX_STATES };
  const out = search(input, model, [model.init], budget, { record: true });
  const base = {
    verdict: out.verdict,
    ops: input.length,
    dropped: ops.length - input.length,
    explored: out.explored,
  };
  if (out.verdict === 'valid') return { ...base, ...(out.order ? { linearization: out.order } : {}) };
  if (out.verdict === 'unknown') return base;
  const stuck = input[out.stuckAt]?.op;
  const window = options.window === false ? undefined : findWindow(input, model, out, options);
  return { ...base, ...(stuck ? { stuck } : {}), ...(window ? { window } : {}) };
}

const MAX_ROUNDS = 8;

/**
 * No configuration gets past the first violation, so windows after it have no start states. To
 * find a later, shorter one, the window found is forgiven (its ops made optional) and the search
 * run again, up to a few rounds; the shortest window of all rounds wins, the earliest on ties.
 */
function findWindow<S>(
  input: readonly SearchOp[],
  model: Model<S>,
  first: SearchOutcome<S>,
  options: LinearizableOptions,
): FailingWindow<S> | undefined {
  const budget = { remaining: options.maxWindowStates ?? 1_000_000 };
  let ops = input;
  let out = first;
  let best: FailingWindow<S> | undefined;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const window = shortestFailingWindow(ops, model, out.reached ?? [], out.stuckAt, budget);
    if (!window) break;
    if (!best || window.ops.length < best.ops.length) best = window;
    if (best.ops.length === 1 || !window.shortest) break;
    const forgiven = new Set(window.ops);
    ops = ops.map((s) => (s.required && forgiven.has(s.op) ? { ...s, required: false } : s));
    out = search(ops, model, [model.init], budget, { record: true });
    if (out.verdict !== 'invalid') break;
  }
  return best;
}
