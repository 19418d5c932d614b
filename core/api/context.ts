/**
 * What the REST API receives from the composition root (core/node.ts): the parts it may use and
 * nothing more. The API builds commands (ids, timestamps, hashes), proposes them through the
 * replica (which forwards to the leader), reads this node's database, and runs cluster operations
 * through `ClusterOps` (core/cluster/).
 */
import type { Logger } from 'pino';
import type { CertificateAuthority } from '../cluster/cluster-ca.js';
import type { ClusterOps } from '../cluster/types.js';
import type { ModelStateMachine } from '../model/state-machine.js';
import type { NodeId } from '../raft/types.js';
import type { Replica } from '../replication/replica.js';
import type { CircuitDirectory } from '../runtime/circuit-directory.js';
import type { ControllerRuntime } from '../runtime/runtime.js';
import type { SnapshotStep } from '../storage/types.js';
import type { FaultPlan, TransportStats } from '../transport/types.js';
import type { TokenKeyStore } from './token-keys.js';

export type { AddMemberRequest, ClusterMemberView, ClusterOps, ClusterView } from '../cluster/types.js';

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
  /** This node's token signing key, kept in its data directory (token-keys.ts). */
  readonly tokenKeys: TokenKeyStore;
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
