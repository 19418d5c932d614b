/**
 * The register model: one config entity's `data.v` with its revision, as the API shows it. Every
 * answer carries the revision, so this model catches a PATCH answered with another client's
 * value or revision, and an update lost through If-Match, not just stale reads.
 *
 * - read ok: legal iff its output is the state.
 * - write ok: legal iff output.value is its own value and output.revision is state.revision + 1.
 * - cas ok: as write, and only when state.revision is its ifRevision.
 * - cas fail REVISION_MISMATCH (412): a read-only check, legal iff state.revision ≠ ifRevision.
 * - write info: (value, revision + 1); cas info: the same when the revision matches, else nothing.
 * - read info and every other fail: left out, they did not change anything.
 */
import type { Operation, RegisterInput, RegisterValue } from '../history.js';
import type { Model } from './model.js';

function asRegister(x: unknown): RegisterValue | undefined {
  if (typeof x !== 'object' || x === null) return undefined;
  const { value, revision } = x as Record<string, unknown>;
  return typeof value === 'number' && typeof revision === 'number' ? { value, revision } : undefined;
}

function inputOf(op: Operation): RegisterInput {
  return (op.input ?? {}) as RegisterInput;
}

/** A failed cas the state machine refused: it saw another revision, so it constrains the order. */
export function isRevisionMismatch(op: Operation): boolean {
  return op.f === 'cas' && op.outcome === 'fail' && (op.error === 'REVISION_MISMATCH' || op.status === 412);
}

/**
 * `ops` (the key's history) lets the model treat values no read ever returned as one: such a
 * value can only be overwritten unseen, so states and timed-out writes differing only in it are
 * interchangeable, which keeps many timeouts from multiplying the search.
 */
export function registerModel(init: RegisterValue, ops: readonly Operation[] = []): Model<RegisterValue> {
  const seen = new Set<number>();
  for (const op of ops) {
    if (op.f !== 'read' || op.outcome !== 'ok') continue;
    const out = asRegister(op.output);
    if (out) seen.add(out.value);
  }
  const canon = (v: number): string => (seen.has(v) ? String(v) : '_');

  return {
    init,
    admits: (op) =>
      (op.f === 'read' || op.f === 'write' || op.f === 'cas') &&
      (op.outcome === 'ok' || (op.outcome === 'info' && op.f !== 'read') || isRevisionMismatch(op)),

    step(state, op) {
      const input = inputOf(op);
      if (op.outcome === 'info') {
        if (typeof input.value !== 'number') return undefined;
        if (op.f === 'cas' && state.revision !== input.ifRevision) return state;
        return { value: input.value, revision: state.revision + 1 };
      }
      if (op.outcome === 'fail') return state.revision !== input.ifRevision ? state : undefined;
      const out = asRegister(op.output);
      if (!out) return undefined;
      switch (op.f) {
        case 'read':
          return out.value === state.value && out.revision === state.revision ? state : undefined;
        case 'write':
        case 'cas': {
          // A cas that applied is a write, taken only at the revision it named.
          if (op.f === 'cas' && state.revision !== input.ifRevision) return undefined;
          return out.value === input.value && out.revision === state.revision + 1 ? out : undefined;
        }
        default:
          return undefined;
      }
    },

    // Revisions only grow, so an op that needs an older revision than the state's is dead.
    feasible(state, op) {
      if (op.outcome === 'fail') return true;
      const out = asRegister(op.output);
      if (!out) return false;
      if (op.f === 'read') {
        return (
          state.revision < out.revision || (state.revision === out.revision && state.value === out.value)
        );
      }
      const input = inputOf(op);
      if (out.value !== input.value) return false;
      if (
        op.f === 'cas' &&
        (out.revision !== (input.ifRevision ?? NaN) + 1 || state.revision > input.ifRevision!)
      ) {
        return false;
      }
      return state.revision < out.revision;
    },

    mayAffect: (state, op) => op.f !== 'cas' || state.revision <= (inputOf(op).ifRevision ?? -Infinity),

    infoClass(op) {
      const input = inputOf(op);
      if (typeof input.value !== 'number') return undefined;
      return op.f === 'cas' ? `c${canon(input.value)}@${input.ifRevision}` : `w${canon(input.value)}`;
    },

    stateKey: (state) => `${canon(state.value)}@${state.revision}`,
    describe: (state) => `value=${state.value} revision=${state.revision}`,
  };
}
