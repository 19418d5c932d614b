/**
 * What the linearizability search needs to know about a datatype: a sequential specification the
 * recorded operations are replayed against. Pure: the search calls `step` millions of times.
 */
import type { Operation } from '../history.js';

export interface Model<S> {
  /** The state before the first operation. */
  readonly init: S;
  /**
   * The state after `op` takes effect in `state`, or undefined when `op` (with the answer it
   * recorded) cannot happen in `state`. For an `info` op the answer is unknown: apply its effect
   * without checking an output.
   */
  step(state: S, op: Operation): S | undefined;
  /** Equal keys must mean equal behaviour from then on: the search memoises on it. */
  stateKey(state: S): string;
  /** Whether `op` takes part in the search at all; by default every op but the `fail` ones. */
  admits?(op: Operation): boolean;
  /**
   * A cheap necessary condition: false when `op` (an ok/fail one) can be legal neither in `state`
   * nor in any state after it, so the branch is dead before the search walks into it.
   */
  feasible?(state: S, op: Operation): boolean;
  /**
   * `info` ops of one class have the same effect in every state (up to `stateKey`), so the search
   * only ever tries them in invocation order: without this, n pending timeouts cost 2^n subsets.
   */
  infoClass?(op: Operation): string | undefined;
  /**
   * For an `info` op: false when it can change no state reachable from `state` (a cas whose
   * revision has passed), so the search retires it instead of carrying it as a choice forever.
   */
  mayAffect?(state: S, op: Operation): boolean;
  /** The state as the report prints it. */
  describe?(state: S): string;
}

/** Whether the search takes `op` into account, with the default for models that do not say. */
export function admitted<S>(model: Model<S>, op: Operation): boolean {
  return model.admits ? model.admits(op) : op.outcome !== 'fail';
}
