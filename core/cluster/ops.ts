/**
 * Cluster operations (ClusterOps, core/api/context.ts): membership changes, leadership transfer
 * and snapshots. A membership change runs on the leader, the only node that may propose one, so a
 * follower forwards the whole operation over the cluster transport (not an HTTP redirect) and then
 * waits until the change has applied locally, like a forwarded write.
 *
 * Adding a voter goes through a learner (Raft thesis §4.2.1): the new node first receives the log
 * without counting towards quorums, and is promoted only once it has caught up, so adding a slow
 * or empty node never stalls commits.
 */
import type { Logger } from 'pino';
import type { AddMemberRequest, ClusterMemberView, ClusterOps, ClusterView } from '../cluster/types.js';
import { NONE, type ConfChange, type NodeId } from '../raft/types.js';
import { ReplicaError } from '../replication/errors.js';
import { encodeMemberInfo, memberInfo } from '../replication/members.js';
import { forwardedError, type PeerReplicaStatus, type Replica } from '../replication/replica.js';
import type { PeerTransport } from '../transport/types.js';
import { asClusterError, ClusterError } from './errors.js';

export interface ClusterOpsOptions {
  readonly clusterId: string;
  readonly replica: Replica;
  readonly transport: PeerTransport;
  readonly logger: Logger;
  /** How long a new member may take to catch up before it is promoted (default 60 s). */
  readonly catchUpTimeoutMs?: number;
  /** How long to wait for a leader or for a change to apply (default 10 s). */
  readonly timeoutMs?: number;
  /** A learner is caught up when it is at most this many entries behind the leader's commit. */
  readonly catchUpSlack?: number;
  /**
   * Revoking a removed member (core/model/retired-controllers.ts): `retire` records it in the
   * model (before the membership change, so no member leaves unrevoked), `retired` asks.
   */
  readonly retirement?: {
    retire(id: NodeId): Promise<void>;
    retired(id: NodeId): boolean;
  };
}

const ADD_MEMBER = 'cluster.addMember';
const REMOVE_MEMBER = 'cluster.removeMember';
const TRANSFER = 'cluster.transferLeadership';

const ADDRESS = /^[A-Za-z0-9.-]+:\d{1,5}$|^\[[0-9A-Fa-f:.]+\]:\d{1,5}$/;

export function createClusterOps(options: ClusterOpsOptions): ClusterOps {
  const { replica, transport, logger } = options;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const catchUpTimeoutMs = options.catchUpTimeoutMs ?? 60_000;
  const catchUpSlack = options.catchUpSlack ?? 16;

  /** Runs `op` on the leader (here or forwarded), then waits until its index applied here. */
  async function onLeader<T extends { index: number }>(
    method: string,
    payload: unknown,
    local: () => Promise<T>,
  ): Promise<T> {
    const leader = await leaderId(replica, timeoutMs);
    if (leader === replica.id) return local();
    let answer: T;
    try {
      answer = (await transport.request(leader, method, payload, catchUpTimeoutMs + timeoutMs)) as T;
    } catch (err) {
      throw asClusterError(err) ?? forwardedError(err);
    }
    await replica.waitForIndex(answer.index, timeoutMs);
    return answer;
  }

  async function addHere(request: AddMemberRequest & { id: NodeId }): Promise<{ id: NodeId; index: number }> {
    if (options.retirement?.retired(request.id)) {
      throw new ClusterError(
        'MEMBER_RETIRED',
        `${request.id} was removed from the cluster and its certificates revoked; join the machine afresh (a new data directory gets a new node id)`,
      );
    }
    const conf = replica.status().conf;
    const info = encodeMemberInfo({
      address: request.address,
      ...(request.name ? { name: request.name } : {}),
      ...(request.apiUrl ? { apiUrl: request.apiUrl } : {}),
    });
    const isVoter = conf.voters.includes(request.id);
    const isLearner = conf.learners.includes(request.id);
    if (isVoter) {
      // A joining node that retries after a lost answer is already in: tell it so, idempotently.
      if (memberInfo(conf, request.id)?.address === request.address) {
        return { id: request.id, index: replica.status().commit };
      }
      throw new ClusterError('MEMBERSHIP_CONFLICT', `${request.id} is already a voter at another address`);
    }
    let index = isLearner
      ? replica.status().commit
      : (await propose({ type: 'addLearner', nodeId: request.id, context: info })).index;
    if (request.voter === false) return { id: request.id, index };
    await waitUntilCaughtUp(request.id, index);
    index = (await propose({ type: 'addVoter', nodeId: request.id, context: info })).index;
    logger.info({ member: request.id, address: request.address }, 'member added as a voter');
    return { id: request.id, index };
  }

  async function propose(cc: ConfChange): Promise<{ index: number }> {
    try {
      return await replica.proposeConfChange(cc);
    } catch (err) {
      if (err instanceof ReplicaError && err.code === 'INVALID_REQUEST') {
        throw new ClusterError('MEMBERSHIP_CONFLICT', err.message);
      }
      throw err;
    }
  }

  /** Until the learner holds its own addLearner entry and is within `catchUpSlack` of the commit. */
  async function waitUntilCaughtUp(id: NodeId, addedAt: number): Promise<void> {
    const deadline = Date.now() + catchUpTimeoutMs;
    for (;;) {
      const status = replica.status();
      if (status.role !== 'leader') {
        throw new ReplicaError('NO_LEADER', 'lost leadership while a new member caught up', 'unknown');
      }
      const match = status.progress[id]?.match ?? 0;
      if (match >= addedAt && match + catchUpSlack >= status.commit) return;
      if (Date.now() >= deadline) {
        throw new ClusterError(
          'CATCH_UP_TIMEOUT',
          `${id} did not catch up within ${catchUpTimeoutMs} ms (at ${match} of ${status.commit}); it stays a learner`,
        );
      }
      await once(replica, 'applied', Math.min(500, deadline - Date.now()));
    }
  }

  async function removeHere(id: NodeId): Promise<{ index: number }> {
    const conf = replica.status().conf;
    if (!conf.voters.includes(id) && !conf.learners.includes(id)) {
      throw new ClusterError('UNKNOWN_MEMBER', `${id} is not a member of the cluster`);
    }
    if (conf.voters.length === 1 && conf.voters[0] === id) {
      throw new ClusterError('MEMBERSHIP_CONFLICT', `${id} is the last voter; a cluster cannot remove it`);
    }
    // Revoked first: its certificates stop opening anything once the removal applies. Should this
    // node fail in between, the member stays in and `remove` again finishes it.
    await options.retirement?.retire(id);
    return propose({ type: 'removeNode', nodeId: id });
  }

  async function transferHere(to: NodeId | undefined): Promise<{ index: number; leaderId: NodeId }> {
    const status = replica.status();
    // Only the leader transfers: it exchanges Raft messages with every member.
    const reachable = new Set(status.peers.filter((p) => memberReachable(p, true)).map((p) => p.id));
    const candidates = status.conf.voters.filter((id) => id === replica.id || reachable.has(id));
    const target = to ?? mostCaughtUpVoter(candidates, replica.id, status.progress);
    if (!target) {
      throw new ClusterError(
        status.conf.voters.length > 1 ? 'MEMBER_UNREACHABLE' : 'MEMBERSHIP_CONFLICT',
        status.conf.voters.length > 1
          ? 'no other voter is reachable to take the lead'
          : 'there is no other voter to lead',
      );
    }
    if (!status.conf.voters.includes(target)) {
      throw new ClusterError('UNKNOWN_MEMBER', `${target} is not a voter of the cluster`);
    }
    if (target === replica.id) return { index: status.commit, leaderId: target };
    // Refused at once: a member that is down could only take the lead after it came back.
    if (!reachable.has(target)) {
      const peer = status.peers.find((p) => p.id === target);
      const name = memberInfo(status.conf, target)?.name ?? target;
      throw new ClusterError(
        'MEMBER_UNREACHABLE',
        `${name} is unreachable (${lastHeard(peer?.lastContactMs)}); leadership can only move to a member that is up`,
      );
    }
    replica.transferLeadership(target);
    const deadline = Date.now() + timeoutMs;
    while (replica.status().leader !== target) {
      if (Date.now() >= deadline) {
        throw new ReplicaError('TIMEOUT', `leadership did not move to ${target} in time`, 'unknown');
      }
      await once(replica, 'leader', deadline - Date.now());
    }
    return { index: replica.status().commit, leaderId: target };
  }

  transport.handle(ADD_MEMBER, async (_from, payload) => addHere(parseAdd(payload)));
  transport.handle(REMOVE_MEMBER, async (_from, payload) =>
    removeHere(String((payload as { id?: unknown })?.id)),
  );
  transport.handle(TRANSFER, async (_from, payload) => {
    const to = (payload as { to?: unknown })?.to;
    return transferHere(typeof to === 'string' ? to : undefined);
  });

  return {
    view: () => clusterView(options.clusterId, replica, transport),
    async addMember(request) {
      const checked = parseAdd(request);
      return onLeader(ADD_MEMBER, checked, () => addHere(checked));
    },
    async removeMember(id) {
      return onLeader(REMOVE_MEMBER, { id }, () => removeHere(id));
    },
    async transferLeadership(to) {
      const { leaderId } = await onLeader(TRANSFER, to === undefined ? {} : { to }, () => transferHere(to));
      return { leaderId };
    },
    snapshot: () => replica.snapshotNow(),
  };
}

function parseAdd(payload: unknown): AddMemberRequest & { id: NodeId } {
  const p = (payload ?? {}) as Record<string, unknown>;
  const text = (key: string, max = 255): string | undefined => {
    const value = p[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string' || value.length === 0 || value.length > max) {
      throw new ClusterError(
        'INVALID_MEMBER',
        `${key} must be a non-empty string of at most ${max} characters`,
      );
    }
    return value;
  };
  const address = text('address');
  if (!address || !ADDRESS.test(address)) {
    throw new ClusterError('INVALID_MEMBER', 'address must be host:port of the member’s cluster listener');
  }
  const id = text('id', 64);
  if (!id) throw new ClusterError('INVALID_MEMBER', 'id is required: the joining node reports its own id');
  const name = text('name');
  const apiUrl = text('apiUrl', 2048);
  if (p.voter !== undefined && typeof p.voter !== 'boolean') {
    throw new ClusterError('INVALID_MEMBER', 'voter must be true or false');
  }
  return {
    id,
    address,
    ...(name ? { name } : {}),
    ...(apiUrl ? { apiUrl } : {}),
    ...(p.voter === false ? { voter: false } : {}),
  };
}

function mostCaughtUpVoter(
  voters: readonly NodeId[],
  self: NodeId,
  progress: Readonly<Record<NodeId, { match: number }>>,
): NodeId | undefined {
  let best: NodeId | undefined;
  for (const id of voters) {
    if (id === self) continue;
    if (best === undefined || (progress[id]?.match ?? 0) > (progress[best]?.match ?? 0)) best = id;
  }
  return best;
}

/**
 * Whether this node hears from a member: its cluster connection is up and, when Raft traffic
 * flows between the two (one of them leads), it spoke within UNREACHABLE_AFTER_MS. Two followers
 * exchange no Raft messages (what one last heard from the other may date from when it led), so
 * between them the live connection is what there is to go by.
 */
export function memberReachable(
  peer: Pick<PeerReplicaStatus, 'connected' | 'lastContactMs'>,
  oneOfUsLeads: boolean,
): boolean {
  if (!peer.connected) return false;
  if (!oneOfUsLeads) return true;
  return peer.lastContactMs !== undefined && peer.lastContactMs <= UNREACHABLE_AFTER_MS;
}

/** Leaders send heartbeats every ~100 ms: two seconds of silence is a member down or cut off. */
export const UNREACHABLE_AFTER_MS = 2_000;

function lastHeard(ms: number | undefined): string {
  if (ms === undefined) return 'never heard from';
  return ms < 1000 ? `last heard from ${ms} ms ago` : `last heard from ${Math.round(ms / 1000)} s ago`;
}

/** The leader as this node knows it, waiting (bounded) through an election. */
async function leaderId(replica: Replica, timeoutMs: number): Promise<NodeId> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { leader } = replica.status();
    if (leader !== NONE) return leader;
    if (Date.now() >= deadline)
      throw new ReplicaError('NO_LEADER', 'the cluster has no leader', 'not-proposed');
    await once(replica, 'leader', deadline - Date.now());
  }
}

/** Resolves at the replica's next `event`, or after `ms` (the caller re-checks its condition). */
function once(replica: Replica, event: 'leader' | 'applied', ms: number): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      replica.off(event, done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(1, ms));
    replica.on(event, done);
  });
}

export function clusterView(clusterId: string, replica: Replica, transport: PeerTransport): ClusterView {
  const status = replica.status();
  const peers = new Map(status.peers.map((p) => [p.id, p]));
  const linked = new Map(transport.peers().map((p) => [p.id, p]));
  const ids = [...status.conf.voters, ...status.conf.learners];
  const members = ids.map((id): ClusterMemberView => {
    const info = memberInfo(status.conf, id);
    const self = id === replica.id;
    const peer = peers.get(id);
    return {
      id,
      name: info?.name ?? id,
      address: info?.address ?? linked.get(id)?.address ?? '',
      apiUrl: info?.apiUrl ?? null,
      voter: status.conf.voters.includes(id),
      leader: status.leader === id,
      connected: self || (peer?.connected ?? false),
      reachable:
        self ||
        (peer !== undefined && memberReachable(peer, status.role === 'leader' || status.leader === id)),
      matchIndex:
        status.role === 'leader' ? (self ? status.lastIndex : (status.progress[id]?.match ?? 0)) : null,
      appliedIndex: self ? status.applied : null,
      lastContactMs: self ? 0 : (peer?.lastContactMs ?? null),
    };
  });
  return {
    clusterId,
    nodeId: replica.id,
    leaderId: status.leader === NONE ? '' : status.leader,
    role: status.role,
    term: status.term,
    commitIndex: status.commit,
    appliedIndex: status.applied,
    members,
  };
}
