/**
 * The linearizability search: Wing & Gong's depth-first search over orders of operations, with the
 * improvements of Lowe ("Testing for linearizability", 2017): calls and returns sit in one doubly
 * linked list ordered by time; linearizing an op lifts its call and return out of the list (and a
 * backtrack puts them back, dancing-links style), and every configuration reached — (set of
 * linearized ops as a bitset, model state) — is memoised, so no configuration is explored twice.
 *
 * One configuration may linearize any op whose call comes before the first return still in the
 * list; reaching the return of an op that must be linearized means that branch is dead.
 *
 * Beyond Lowe:
 * - Ops that need not be linearized (`required: false`: an `info` op, or an op across a window's
 *   edge) never block at their return; one passed over is lifted out when a later call is
 *   linearized, since real time then forbids it. Whether it is still possible follows from the
 *   linearized set, so the memo key stays (bitset, state).
 * - `info` ops of one model class are tried in invocation order only (see Model.infoClass).
 * - `info` ops that change nothing now are not taken, and those that can never change anything
 *   again (Model.mayAffect) are retired, so neither multiplies the configurations.
 * - Model.feasible prunes a configuration in which some op of the current frontier can no longer
 *   ever be legal.
 * - Required candidates are tried before optional ones: timeouts are speculated on only when the
 *   answered ops cannot go on without them.
 * - Several start states (a window's) are searched in turns with growing allowances, so one that
 *   fails at length does not hold up one that succeeds at once.
 * - Iterative (an explicit stack, no recursion) and bounded: at most `budget.remaining`
 *   configurations are memoised, after which the answer is 'unknown'.
 */
import type { Operation } from '../history.js';
import type { Model } from './model.js';

export type Verdict = 'valid' | 'invalid' | 'unknown';

/** An operation as the search sees it. `ops` handed to the search are sorted by invocation. */
export interface SearchOp {
  readonly op: Operation;
  /** Must be linearized (it has an ok/fail answer); otherwise it may also never take effect. */
  readonly required: boolean;
  /** The end of its interval; Infinity for an `info` op, which stays possible forever. */
  readonly returnAt: number;
}

/** Configurations the memo may still take; shared between searches that spend one allowance. */
export interface Budget {
  remaining: number;
}

/** A state some configuration reached, with the window starts (op indices) it can stand before. */
export interface ReachedState<S> {
  readonly state: S;
  readonly from: number;
  readonly to: number;
}

export interface SearchOutcome<S> {
  readonly verdict: Verdict;
  /** valid: the ops in a legal order (only the optional ops it used). */
  readonly order?: readonly Operation[];
  /** The lowest index of a required op that no explored configuration linearized (n if none). */
  readonly stuckAt: number;
  /** Configurations memoised by this search. */
  readonly explored: number;
  /** When asked for: every distinct state reached, for window starts. */
  readonly reached?: readonly ReachedState<S>[];
}

export interface SearchOptions {
  /** Record the states reached and the window starts each can stand before. */
  readonly record?: boolean;
}

const END = -1;
const CHUNK = 4096;
/** A start's first allowance when a search has several. */
const FIRST_TURN = 64;

export function search<S>(
  ops: readonly SearchOp[],
  model: Model<S>,
  starts: readonly S[],
  budget: Budget,
  options: SearchOptions = {},
): SearchOutcome<S> {
  const n = ops.length;
  const required = new Uint8Array(n);
  let requiredTotal = 0;
  for (let k = 0; k < n; k++) {
    if (ops[k]!.required) {
      required[k] = 1;
      requiredTotal++;
    }
  }

  // The entry list: node 0 is the head; a call and (if its interval ends) a return per op.
  const events: { t: number; ret: boolean; k: number }[] = [];
  for (let k = 0; k < n; k++) {
    const s = ops[k]!;
    events.push({ t: s.op.invokedAt, ret: false, k });
    if (s.required || Number.isFinite(s.returnAt)) {
      events.push({ t: Math.max(s.returnAt, s.op.invokedAt), ret: true, k });
    }
  }
  // At equal times calls come first: the ops are then concurrent, the lenient reading.
  events.sort((a, b) => a.t - b.t || Number(a.ret) - Number(b.ret) || a.k - b.k);
  const size = events.length + 1;
  const next = new Int32Array(size);
  const prev = new Int32Array(size);
  const nodeOp = new Int32Array(size);
  const nodeIsCall = new Uint8Array(size);
  const callOf = new Int32Array(n);
  const retOf = new Int32Array(n).fill(END);
  for (let p = 0; p < events.length; p++) {
    const e = events[p]!;
    const node = p + 1;
    nodeOp[node] = e.k;
    nodeIsCall[node] = e.ret ? 0 : 1;
    if (e.ret) retOf[e.k] = node;
    else callOf[e.k] = node;
    prev[node] = p;
    next[node] = node + 1 < size ? node + 1 : END;
  }
  next[0] = size > 1 ? 1 : END;

  const unlink = (node: number): void => {
    next[prev[node]!] = next[node]!;
    if (next[node]! !== END) prev[next[node]!] = prev[node]!;
  };
  const relink = (node: number): void => {
    next[prev[node]!] = node;
    if (next[node]! !== END) prev[next[node]!] = node;
  };
  const lift = (k: number): void => {
    unlink(callOf[k]!);
    if (retOf[k]! !== END) unlink(retOf[k]!);
  };
  const unlift = (k: number): void => {
    if (retOf[k]! !== END) relink(retOf[k]!);
    relink(callOf[k]!);
  };

  // Info ops of one class go in invocation order: each may only follow its predecessor.
  const prevInClass = new Int32Array(n).fill(END);
  if (model.infoClass) {
    const lastOfClass = new Map<string, number>();
    for (let k = 0; k < n; k++) {
      const s = ops[k]!;
      if (s.required || Number.isFinite(s.returnAt)) continue;
      const cls = model.infoClass(s.op);
      if (cls === undefined) continue;
      const last = lastOfClass.get(cls);
      if (last !== undefined) prevInClass[k] = last;
      lastOfClass.set(cls, k);
    }
  }

  // For recording: the last window start each op's return still allows (invokedAt <= returnAt).
  const lastStartBefore = (t: number): number => {
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (ops[mid]!.op.invokedAt <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  };

  const words = Math.max(1, Math.ceil(n / 16));
  const bits = new Uint16Array(words);
  const has = (k: number): boolean => (bits[k >>> 4]! & (1 << (k & 15))) !== 0;
  const setBit = (k: number): void => {
    bits[k >>> 4] = bits[k >>> 4]! | (1 << (k & 15));
  };
  const clearBit = (k: number): void => {
    bits[k >>> 4] = bits[k >>> 4]! & ~(1 << (k & 15));
  };
  const chunk: number[] = [];
  // The bitset without its all-set head and all-clear tail (mostly a short middle), then the state.
  const configKey = (stateKey: string): string => {
    let f = 0;
    while (f < words && bits[f] === 0xffff) f++;
    let l = words;
    while (l > f && bits[l - 1] === 0) l--;
    let key = String.fromCharCode(f & 0xffff, f >>> 16, (l - f) & 0xffff, (l - f) >>> 16);
    // fromCharCode.apply on a plain array is several times faster than spreading a typed array.
    for (let p = f; p < l; p += CHUNK) {
      const m = Math.min(l - p, CHUNK);
      chunk.length = m;
      for (let q = 0; q < m; q++) chunk[q] = bits[p + q]!;
      key += String.fromCharCode.apply(null, chunk);
    }
    return key + stateKey;
  };

  const reached = options.record ? new Map<string, { state: S; from: number; to: number }>() : undefined;
  const record = (state: S, stateKey: string, from: number, to: number): void => {
    if (!reached) return;
    const r = reached.get(stateKey);
    if (!r) reached.set(stateKey, { state, from, to });
    else {
      if (from < r.from) r.from = from;
      if (to > r.to) r.to = to;
    }
  };

  // The frontier: required ops whose call precedes the first required return, which every
  // extension of the configuration still has to linearize; and the last window start it allows.
  interface Frontier {
    readonly ops: readonly number[];
    readonly firstReturn: number;
    readonly lastStart: number;
  }
  const frontierOf = (): Frontier => {
    const f: number[] = [];
    for (let node = next[0]!; node !== END; node = next[node]!) {
      const k = nodeOp[node]!;
      if (!required[k]) continue;
      if (nodeIsCall[node]) f.push(k);
      else return { ops: f, firstReturn: k, lastStart: lastStartBefore(ops[k]!.returnAt) };
    }
    return { ops: f, firstReturn: END, lastStart: n - 1 };
  };
  // The last window start once k is linearized too, without lifting it: only k's own return moves.
  const lastStartWith = (frontier: Frontier, k: number): number => {
    if (k !== frontier.firstReturn) return frontier.lastStart;
    for (let node = next[retOf[k]!]!; node !== END; node = next[node]!) {
      const y = nodeOp[node]!;
      if (!nodeIsCall[node] && required[y]) return lastStartBefore(ops[y]!.returnAt);
    }
    return n - 1;
  };
  const feasible = model.feasible?.bind(model);
  const allFeasible = (state: S, frontier: Frontier, except: number): boolean => {
    if (!feasible) return true;
    for (const y of frontier.ops) if (y !== except && !feasible(state, ops[y]!.op)) return false;
    return true;
  };

  // Info ops that can no longer change anything count as taken (set in the bitset, lifted), so
  // the configurations that took one and those that did not are one.
  const infoOps: number[] = [];
  for (let k = 0; k < n; k++) if (!required[k] && !Number.isFinite(ops[k]!.returnAt)) infoOps.push(k);
  const mayAffect = model.mayAffect?.bind(model);
  const NONE: readonly number[] = [];
  const retire = (state: S, except: number): readonly number[] => {
    if (!mayAffect) return NONE;
    let retired: number[] | undefined;
    for (const d of infoOps) {
      if (d === except || has(d) || mayAffect(state, ops[d]!.op)) continue;
      setBit(d);
      (retired ??= []).push(d);
    }
    return retired ?? NONE;
  };

  const firstRequired = (): number => {
    let k = 0;
    while (k < n && !required[k]) k++;
    return k;
  };
  let stuckAt = firstRequired();
  let explored = 0;

  interface Frame {
    readonly k: number;
    readonly state: S;
    readonly stateKey: string;
    readonly killed: number[];
    readonly retired: readonly number[];
    readonly maxIdx: number;
    readonly frontier: Frontier;
    readonly pass: number;
  }

  type Run = { result: 'valid'; order: Operation[] } | { result: 'failed' | 'cut' | 'unknown' };

  /**
   * The depth-first search from one start. `seen` takes the configurations it reaches, up to
   * `limit` of them (then 'cut', everything undone); `proven` holds those already shown to fail.
   */
  const explore = (start: S, limit: number, seen: Set<string>, proven: Set<string>): Run => {
    let state = start;
    let stateKey = model.stateKey(state);
    let maxIdx = -1;
    let lowestOpen = firstRequired();
    let requiredLeft = requiredTotal;
    let frontier = frontierOf();
    if (!allFeasible(state, frontier, END)) return { result: 'failed' };
    const startRetired = retire(state, END);
    const stack: Frame[] = [];
    let passed: number[] = [];
    let outcome: 'failed' | 'cut' | 'unknown' = 'failed';
    const visit = (key: string): 'new' | 'old' | 'cut' | 'unknown' => {
      if (seen.has(key) || proven.has(key)) return 'old';
      if (budget.remaining <= 0) return 'unknown';
      if (seen.size >= limit) return 'cut';
      seen.add(key);
      budget.remaining--;
      explored++;
      return 'new';
    };
    const first = visit(configKey(stateKey));
    if (first === 'new') {
      for (const d of startRetired) lift(d);
      record(state, stateKey, 0, frontier.lastStart);
    } else if (first !== 'old') outcome = first;
    let entry: number = first === 'new' ? next[0]! : END;
    // Each configuration is scanned twice: its required candidates, then its optional ones, so
    // the search speculates on timeouts only when the answered ops cannot go on without them.
    let pass = 0;
    const popFrame = (): Frame | undefined => {
      const frame = stack.pop();
      if (!frame) return undefined;
      for (let p = frame.retired.length - 1; p >= 0; p--) {
        unlift(frame.retired[p]!);
        clearBit(frame.retired[p]!);
      }
      for (let p = frame.killed.length - 1; p >= 0; p--) unlift(frame.killed[p]!);
      unlift(frame.k);
      clearBit(frame.k);
      if (required[frame.k]) {
        requiredLeft++;
        if (frame.k < lowestOpen) lowestOpen = frame.k;
      }
      return frame;
    };

    while (first === 'new') {
      if (entry !== END && nodeIsCall[entry]) {
        const k = nodeOp[entry]!;
        const before = prevInClass[k]!;
        if (required[k] === 1 - pass && (before === END || has(before))) {
          const after = model.step(state, ops[k]!.op);
          // An optional op that changes nothing (a cas on another revision) might as well not
          // happen: it stays pending, and taking it would only double the configurations.
          const noop = after === state && !required[k];
          const sk = after === undefined || noop ? '' : model.stateKey(after);
          if (after === undefined || noop || (!required[k] && sk === stateKey)) {
            // not a step worth taking
          } else if (!allFeasible(after, frontier, k)) {
            // Dead for the whole history, but a window that leaves out the op it fails on may
            // still start from it: keep it among the window starts.
            if (reached) record(after, sk, Math.max(maxIdx, k) + 1, lastStartWith(frontier, k));
          } else {
            setBit(k);
            const retired = retire(after, k);
            const seenAs = visit(configKey(sk));
            if (seenAs === 'new') {
              stack.push({ k, state, stateKey, killed: passed, retired, maxIdx, frontier, pass });
              lift(k);
              for (const d of passed) lift(d);
              for (const d of retired) lift(d);
              state = after;
              stateKey = sk;
              if (k > maxIdx) maxIdx = k;
              if (required[k]) {
                requiredLeft--;
                if (k === lowestOpen) {
                  while (lowestOpen < n && (!required[lowestOpen] || has(lowestOpen))) lowestOpen++;
                  if (lowestOpen > stuckAt) stuckAt = lowestOpen;
                }
              }
              if (requiredLeft === 0) return { result: 'valid', order: stack.map((f) => ops[f.k]!.op) };
              passed = [];
              frontier = frontierOf();
              record(state, sk, maxIdx + 1, frontier.lastStart);
              entry = next[0]!;
              pass = 0;
              continue;
            }
            for (const d of retired) clearBit(d);
            clearBit(k);
            if (seenAs !== 'old') {
              outcome = seenAs;
              break;
            }
          }
        }
        entry = next[entry]!;
        continue;
      }
      if (entry !== END && !required[nodeOp[entry]!]) {
        // An optional op's interval closes here: any call linearized after this point kills it.
        passed.push(nodeOp[entry]!);
        entry = next[entry]!;
        continue;
      }
      // A required op returned unlinearized (or the list ran out): the pass is over.
      if (pass === 0) {
        pass = 1;
        passed = [];
        entry = next[0]!;
        continue;
      }
      const frame = popFrame();
      if (!frame) break;
      state = frame.state;
      stateKey = frame.stateKey;
      maxIdx = frame.maxIdx;
      frontier = frame.frontier;
      passed = frame.killed;
      pass = frame.pass;
      entry = next[callOf[frame.k]!]!;
    }
    // Leave the list and the bitset as they were, for the next start.
    for (let f = popFrame(); f; f = popFrame()) {
      // each pop restores what its push changed
    }
    if (first === 'new') for (let p = startRetired.length - 1; p >= 0; p--) unlift(startRetired[p]!);
    for (const d of startRetired) clearBit(d);
    return { result: outcome };
  };

  // One start: search it through. Several (a window's): a failing start costs its whole space
  // before the next is tried, so take them in turns with growing allowances, keeping only what
  // completed runs proved (an interrupted run's configurations were not all explored).
  const proven = new Set<string>();
  let unknown = false;
  let valid: Operation[] | undefined;
  if (requiredTotal === 0 && starts.length > 0) valid = [];
  let pending = starts.length === 1 || valid ? [] : [...starts];
  if (starts.length === 1 && !valid) {
    const run = explore(starts[0]!, Infinity, proven, proven);
    if (run.result === 'valid') valid = run.order;
    unknown = run.result === 'unknown';
  }
  for (let limit = FIRST_TURN; pending.length > 0 && !valid && !unknown; limit *= 4) {
    const again: S[] = [];
    for (const start of pending) {
      const seen = new Set<string>();
      const run = explore(start, limit, seen, proven);
      if (run.result === 'valid') {
        valid = run.order;
        break;
      }
      if (run.result === 'unknown') {
        unknown = true;
        break;
      }
      if (run.result === 'cut') again.push(start);
      else for (const key of seen) proven.add(key);
    }
    pending = again;
  }
  if (valid) return { verdict: 'valid', order: valid, stuckAt: n, explored };

  const reachedList = reached ? [...reached.values()] : undefined;
  return {
    verdict: unknown ? 'unknown' : 'invalid',
    stuckAt,
    explored,
    ...(reachedList ? { reached: reachedList } : {}),
  };
}
