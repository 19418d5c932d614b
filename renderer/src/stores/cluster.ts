/**
 * The banner's status: the node's own health (`GET /health`) and what each cluster view
 * (`GET /cluster`) says of the leader: unreachable, still starting, or reachable with no leader.
 * The view itself lives in the query cache (`queryKeys.cluster`); this store only hears of it.
 */
import { createStore } from 'zustand/vanilla';
import { ApiError, describeError } from '../api/problem.js';
import type { ClusterMember, ClusterView, Health } from '../api/types.js';

/** What the banner reads of a health answer. */
export type HealthFacts = Partial<Pick<Health, 'status' | 'role' | 'leaderId'>>;

export type NodeStatus = 'unknown' | 'ok' | 'starting' | 'no-leader' | 'unreachable';

export interface ClusterState {
  readonly status: NodeStatus;
  readonly statusDetail: string | null;
}

export interface ClusterActions {
  loaded(view: ClusterView): void;
  failed(error: unknown): void;
  healthChecked(result: { health: HealthFacts } | { error: unknown }): void;
}

export const initialClusterState: ClusterState = {
  status: 'unknown',
  statusDetail: null,
};

function leaderOf(health: HealthFacts): string | null {
  const leader = health.leaderId;
  return typeof leader === 'string' && leader !== '' ? leader : null;
}

/** The banner's status from a health check: a failed request means unreachable. */
export function statusFromHealth(result: { health: HealthFacts } | { error: unknown }): {
  status: NodeStatus;
  detail: string | null;
} {
  if ('error' in result) {
    const error = result.error;
    // A 503 from /health is a node that answers but has no leader; anything else: unreachable.
    if (error instanceof ApiError && error.status === 503)
      return { status: 'no-leader', detail: error.message };
    return { status: 'unreachable', detail: describeError(error) };
  }
  // Health alone says when a starting node is up: neither a leader nor a loaded view does.
  if (result.health.status === 'starting') return { status: 'starting', detail: null };
  return leaderOf(result.health) === null
    ? { status: 'no-leader', detail: null }
    : { status: 'ok', detail: null };
}

// --- transitions ------------------------------------------------------------------------------

export function clusterLoaded(state: ClusterState, view: ClusterView): ClusterState {
  const noLeader = !view.leaderId;
  return {
    ...state,
    // The view is as fresh as a health check: let it correct the banner either way (but only
    // health says when a starting node is up).
    status: noLeader
      ? 'no-leader'
      : state.status === 'unknown' || state.status === 'no-leader'
        ? 'ok'
        : state.status,
  };
}

export function clusterFailed(state: ClusterState, error: unknown): ClusterState {
  const unreachable = error instanceof ApiError && error.kind === 'network';
  return unreachable ? { ...state, status: 'unreachable', statusDetail: describeError(error) } : state;
}

export function healthChecked(
  state: ClusterState,
  result: { health: HealthFacts } | { error: unknown },
): ClusterState {
  const { status, detail } = statusFromHealth(result);
  return { ...state, status, statusDetail: detail };
}

// --- what the members table shows -------------------------------------------------------------

export type MemberRole = 'leader' | 'follower' | 'learner';

export interface MemberRow extends ClusterMember {
  readonly role: MemberRole;
  /** Entries behind the commit index; null when this node cannot know (it is not the leader). */
  readonly lag: number | null;
}

export function memberRows(view: ClusterView): MemberRow[] {
  return view.members
    .map((member): MemberRow => {
      const role: MemberRole = member.leader ? 'leader' : member.voter ? 'follower' : 'learner';
      const known = member.matchIndex ?? member.appliedIndex;
      const lag = known === null ? null : Math.max(0, view.commitIndex - known);
      return { ...member, role, lag };
    })
    .sort((a, b) => (a.leader === b.leader ? a.name.localeCompare(b.name) : a.leader ? -1 : 1));
}

/** How many voters the answering node hears from, against how many a write needs. */
export interface FaultTolerance {
  readonly voters: number;
  readonly reachable: number;
  /** Voters a write needs: a majority. */
  readonly quorum: number;
  /** Further failures the cluster survives; negative when it already has no quorum. */
  readonly spare: number;
}

export function faultTolerance(view: ClusterView): FaultTolerance {
  const voters = view.members.filter((m) => m.voter);
  const reachable = voters.filter((m) => m.reachable).length;
  const quorum = Math.floor(voters.length / 2) + 1;
  return { voters: voters.length, reachable, quorum, spare: reachable - quorum };
}

/** What the Cluster page warns of, if anything: lost quorum, or one failure away from it. */
export function faultToleranceNotice(
  t: FaultTolerance,
): { readonly level: 'error' | 'warning' | 'info'; readonly text: string } | null {
  if (t.spare < 0) {
    return {
      level: 'error',
      text: `No quorum: ${t.reachable} of ${t.voters} voters are reachable and a write needs ${t.quorum}. Writes stop until a majority is back.`,
    };
  }
  if (t.spare > 0) return null;
  if (t.voters === 1) {
    return {
      level: 'info',
      text: 'One voter: if this node stops, writes stop. Invite two members to tolerate a failure.',
    };
  }
  return {
    level: 'warning',
    text: `No fault tolerance: ${t.reachable} of ${t.voters} voters are reachable; one more failure stops writes.`,
  };
}

export function createClusterStore() {
  return createStore<ClusterState & ClusterActions>()((set, get) => ({
    ...initialClusterState,
    loaded: (view) => set(clusterLoaded(get(), view)),
    failed: (error) => set(clusterFailed(get(), error)),
    healthChecked: (result) => set(healthChecked(get(), result)),
  }));
}

export type ClusterStore = ReturnType<typeof createClusterStore>;
