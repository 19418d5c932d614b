/**
 * The REST contract the UI talks to: the types of requests and answers are inferred from the
 * contract's zod schemas (contract/, shared with the node), so the UI cannot drift from the API.
 * What is the client's own (a write's Raft index, a normalised problem or event) is written here.
 */
import type { z } from 'zod';
import type {
  circuit,
  circuitList,
  clusterCa,
  createdInvitation,
  routerEnrollmentState,
  invitation,
  circuitPath,
  clusterMember,
  clusterView,
  connectedRouter,
  createdCircuit,
  linkList,
  listMeta,
  policyCheck,
  policyRef,
  runtimeLink,
  runtimeStatus,
} from '../../../contract/index.js';

import type { Entity, JsonValue } from '../../../contract/index.js';

export {
  collectionNames,
  isCollectionName,
  type AddMemberRequest,
  type CollectionName,
  type CreateCircuitRequest,
  type Entity,
  type JsonValue,
  type ListQuery,
} from '../../../contract/index.js';

export type ListMeta = z.infer<typeof listMeta>;

/** A page of a collection; `T` an entity type. */
export interface ListPage<T = Entity> {
  readonly data: readonly T[];
  readonly meta: ListMeta;
}

export type { Health, LoginResult, WriteResult } from '../../../client/api-client.js';

export type { FieldProblem, Problem } from '../../../client/problem.js';

export type ClusterMember = z.infer<typeof clusterMember>;
export type ClusterView = z.infer<typeof clusterView>;
/** A one-time join token as admins see it (never its secret). */
export type Invitation = z.infer<typeof invitation>;
/** A new join token: shown this once. */
export type CreatedInvitation = z.infer<typeof createdInvitation>;
/** Whether a router holds a good certificate, and its enrollment tokens not used yet. */
export type RouterEnrollmentState = z.infer<typeof routerEnrollmentState>;
/** The cluster root CA (PEM) and its SHA-256 fingerprint. */
export type ClusterCa = z.infer<typeof clusterCa>;

export type ServicePolicyType = 'Dial' | 'Bind';
export type PolicyRef = z.infer<typeof policyRef>;
export type PolicyCheck = z.infer<typeof policyCheck>;

/**
 * One event from `/events` (HTTP backlog or the socket.io namespace): entity and cluster events,
 * each with the Raft index it happened at. Fields beyond these are kept as they came.
 */
export interface MeshEvent {
  /** `entity.create|update|patch|delete`, `cluster.role|leader|membership`. */
  readonly type: string;
  readonly index: number | null;
  /** The node's sequence number of the event (unique per node run), when it sends one. */
  readonly seq: number | null;
  readonly at: string | null;
  readonly collection: string | null;
  readonly entityId: string | null;
  /** The whole payload as received. */
  readonly payload: { readonly [key: string]: JsonValue };
}

// --- runtime: routers, links and circuits (in memory on each controller, never replicated) -----

export type ConnectedRouter = z.infer<typeof connectedRouter>;
export type RuntimeStatus = z.infer<typeof runtimeStatus>;
export type RuntimeLink = z.infer<typeof runtimeLink>;
export type CircuitPath = z.infer<typeof circuitPath>;
export type Circuit = z.infer<typeof circuit>;
export type CreatedCircuit = z.infer<typeof createdCircuit>;
export type LinkList = z.infer<typeof linkList>;
export type CircuitList = z.infer<typeof circuitList>;
