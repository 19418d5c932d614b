/**
 * What the REST API receives from the composition root (core/node.ts): the parts it may use and
 * nothing more. The API builds commands (ids, timestamps, hashes), proposes them through the
 * replica (which forwards to the leader), reads this node's database, and runs cluster operations
 * through `ClusterOps` (core/cluster/).
 */
import type { Logger } from 'pino';
import type { CertificateAuthority } from '../cluster/cluster-ca.js';
import type { z } from 'zod';
import type { AddMemberRequest, clusterMember, clusterView } from '../../contract/index.js';
import type { ModelStateMachine } from '../model/state-machine.js';
import type { NodeId } from '../raft/types.js';
import type { Replica } from '../replication/replica.js';
import type { CircuitDirectory } from '../runtime/circuit-directory.js';
import type { ControllerRuntime } from '../runtime/runtime.js';
import type { SnapshotStep } from '../storage/types.js';
import type { FaultPlan, TransportStats } from '../transport/types.js';

/** One member as `GET /cluster` shows it: the contract's shape (DESIGN.md section 4). */
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

/**
 * Test-only fault hooks for the Jepsen suite (core/fault-injection.ts). The controller creates
 * them only when started with MESHDESK_FAULT_INJECTION=1; without them `/debug` has no routes.
 */
export interface FaultHooks {
  /** Replaces the transport's whole per-peer fault table: peers left out are healed. */
  setPeerFaults(table: Readonly<Record<NodeId, FaultPlan>>): void;
  peerFaults(): Record<NodeId, FaultPlan>;
  /** Makes this process SIGKILL itself at `step` of its next snapshot write (undefined disarms). */
  crashInNextSnapshot(step: SnapshotStep | undefined): void;
}

export interface ApiContext {
  readonly nodeId: NodeId;
  readonly clusterId: string;
  readonly name: string;
  readonly replica: Replica;
  /** The model; its `model` database is replaced on snapshot restore: read it per request. */
  readonly model: ModelStateMachine;
  readonly cluster: ClusterOps;
  /** The cluster CA: its root, and signing a joining node's certificate (core/cluster/cluster-ca.ts). */
  readonly certificates: CertificateAuthority;
  readonly logger: Logger;
  /** The cluster transport's counters (refusals by reason for `/metrics`). */
  readonly transportStats?: () => TransportStats;
  /** Links, circuits and the router channel (core/runtime); absent in API-only test setups. */
  readonly runtime?: ControllerRuntime;
  /** Circuits across the cluster (each member owns its own); absent with `runtime`. */
  readonly circuits?: CircuitDirectory;
  /**
   * Whether the composition root has finished starting this node (bootstrap's first admin
   * applied, a join's membership applied here); until then health says `starting`
   * (readiness.ts). Absent: started.
   */
  readonly started?: () => boolean;
  /** Test-only fault injection; present only under MESHDESK_FAULT_INJECTION=1. */
  readonly faults?: FaultHooks;
}
