/**
 * What core/cluster offers the rest of the node: the cluster view (the contract's shape, DESIGN.md
 * section 4) and the membership operations. The API receives them; nothing here imports the API.
 */
import type { z } from 'zod';
import type { AddMemberRequest, clusterMember, clusterView } from '../../contract/index.js';
import type { NodeId } from '../raft/types.js';

/** One member as `GET /cluster` shows it. */
export type ClusterMemberView = z.infer<typeof clusterMember>;
export type ClusterView = z.infer<typeof clusterView>;
/** `POST /cluster/members`: its address is the new member's cluster listener (host:port). */
export type { AddMemberRequest } from '../../contract/index.js';

/**
 * Cluster operations. Each runs on (or is forwarded to) the leader and resolves once the change
 * has applied on this node. Errors are ReplicaError (core/replication/errors.ts) with an outcome,
 * or ClusterError (core/cluster/errors.ts) for requests that make no sense (unknown member, …).
 */
export interface ClusterOps {
  view(): ClusterView;
  addMember(request: AddMemberRequest): Promise<{ id: NodeId; index: number }>;
  removeMember(id: NodeId): Promise<{ index: number }>;
  /** To the given member, or to the most caught-up voter when omitted; resolves with the new leader. */
  transferLeadership(to?: NodeId): Promise<{ leaderId: NodeId }>;
  snapshot(): Promise<{ index: number }>;
}
