/**
 * The first state of a new cluster, as etcd bootstraps it: one committed `addVoter` entry per
 * initial member at indexes 1..N, identical on every initial member. Keeping the first membership
 * in the log (not in a snapshot at index 0) matters: a node added later receives those entries
 * like any others and so learns the whole membership, instead of starting from an empty one and
 * believing it is alone.
 */
import { encodeConfChange } from './confchange.js';
import { NONE, type Entry, type NodeId, type PersistedState, type Snapshot } from './types.js';

export interface BootstrapMember {
  readonly id: NodeId;
  /** Opaque per-member context carried in the membership (e.g. its address). */
  readonly context?: string;
}

export function bootstrapState(
  members: readonly BootstrapMember[],
): PersistedState & { entries: readonly Entry[] } {
  if (members.length === 0) throw new Error('a cluster needs at least one member');
  if (new Set(members.map((m) => m.id)).size !== members.length) throw new Error('member ids must be unique');
  const entries: Entry[] = members.map((m, i) => ({
    term: 1,
    index: i + 1,
    type: 'confChange',
    data: encodeConfChange({
      type: 'addVoter',
      nodeId: m.id,
      ...(m.context === undefined ? {} : { context: m.context }),
    }),
  }));
  return { hardState: { term: 1, vote: NONE, commit: entries.length }, entries };
}

/**
 * The first state of a new cluster seeded with a state machine's data (a restored backup): a
 * snapshot at index N holding that data and the first membership, instead of N addVoter entries.
 * A node added later receives the snapshot, membership included, so it never believes it is alone.
 */
export function bootstrapFromSnapshot(
  members: readonly BootstrapMember[],
  data: Uint8Array,
): PersistedState & { snapshot: Snapshot } {
  const { hardState, entries } = bootstrapState(members);
  const context: Record<NodeId, string> = {};
  for (const m of members) if (m.context !== undefined) context[m.id] = m.context;
  const last = entries.at(-1) as Entry;
  return {
    hardState,
    snapshot: {
      meta: {
        index: last.index,
        term: last.term,
        conf: { voters: members.map((m) => m.id), learners: [], context },
      },
      data,
    },
  };
}
