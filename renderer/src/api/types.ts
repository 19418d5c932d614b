/**
 * The REST contract the UI talks to (DESIGN.md section 4), written from the contract and not
 * imported from core/: the renderer depends on the API, never on the node's code.
 */

export const collectionNames = [
  'identities',
  'services',
  'routers',
  'terminators',
  'service-policies',
  'edge-router-policies',
  'service-edge-router-policies',
  'configs',
  'config-types',
  'posture-checks',
  'admins',
] as const;

export type CollectionName = (typeof collectionNames)[number];

export function isCollectionName(value: string): value is CollectionName {
  return (collectionNames as readonly string[]).includes(value);
}

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** One entity as the API returns it: its own fields plus the bookkeeping every entity has. */
export interface Entity {
  readonly id: string;
  readonly createdAt?: string;
  readonly updatedAt?: string;
  /** Increases on every write; `PATCH` with `If-Match: <revision>` is a compare-and-set. */
  readonly revision?: number;
  readonly [field: string]: JsonValue | undefined;
}

export interface ListMeta {
  readonly total: number;
  readonly limit: number;
  readonly offset: number;
}

export interface ListPage<T = Entity> {
  readonly data: T[];
  readonly meta: ListMeta;
}

export interface ListQuery {
  readonly limit?: number;
  readonly offset?: number;
  /** The API's filter language, passed through untouched. */
  readonly filter?: string;
  /** Comma-separated fields, `-` before a field for descending. */
  readonly sort?: string;
}

/** What a write returns besides its body: the Raft index it applied at on the answering node. */
export interface WriteResult<T> {
  readonly body: T;
  readonly raftIndex: number | null;
}

export interface LoginResult {
  readonly token: string;
  readonly expiresAt: string;
}

export interface FieldProblem {
  readonly field: string;
  readonly message: string;
}

/** An `application/problem+json` body (RFC 9457) as this API writes it. */
export interface Problem {
  readonly type?: string;
  readonly title: string;
  readonly status: number;
  readonly detail?: string;
  /** The API's stable machine-readable code (`POLICY_DENIED`, `NO_RUNTIME`, …), when it sends one. */
  readonly code?: string;
  /** Per-field validation errors, normalised to a list. */
  readonly errors: readonly FieldProblem[];
}

export interface ClusterMember {
  readonly id: string;
  readonly name: string;
  readonly address: string;
  readonly apiUrl: string | null;
  readonly voter: boolean;
  readonly leader: boolean;
  readonly connected: boolean;
  /** The leader's match index for it; null when the answering node is not the leader. */
  readonly matchIndex: number | null;
  readonly appliedIndex: number | null;
  /** Milliseconds since the answering node last heard from it; null when never. */
  readonly lastContactMs: number | null;
}

export interface ClusterView {
  readonly clusterId: string;
  /** The node that answered. */
  readonly nodeId?: string;
  /** '' (or null) when no leader is known. */
  readonly leaderId: string | null;
  readonly role?: string;
  readonly term: number;
  readonly commitIndex: number;
  readonly appliedIndex?: number;
  readonly members: readonly ClusterMember[];
}

export interface AddMemberRequest {
  /** host:port of the new member's cluster listener. */
  readonly address: string;
  readonly id?: string;
  readonly name?: string;
  readonly apiUrl?: string;
  readonly voter?: boolean;
}

/** `GET /health`: no auth; what the banner needs to know. */
export interface Health {
  /** `up`, or `starting` (answered with 503) until the node's bootstrap has finished. */
  readonly status?: string;
  readonly role?: string;
  /** The leader's id; '' or null when there is none. */
  readonly leader?: string | null;
  readonly leaderId?: string | null;
  readonly term?: number;
  readonly commitIndex?: number;
  readonly appliedIndex?: number;
  readonly [key: string]: JsonValue | undefined;
}

export type ServicePolicyType = 'Dial' | 'Bind';

export interface PolicyRef {
  readonly id: string;
  readonly name: string;
}

export interface PolicyCheck {
  readonly allowed: boolean;
  /** The service policies of the asked type that select both the identity and the service. */
  readonly policies: readonly PolicyRef[];
  /** What stands between the identity and the service, in an admin's words; empty when allowed. */
  readonly missing: readonly string[];
}

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

/** A router connected to the answering controller's router channel. */
export interface ConnectedRouter {
  readonly id: string;
  readonly name: string;
  /** The router's link listener (host:port), when it has one. */
  readonly listen: string | null;
  readonly connectedSince: string;
}

/** `GET /runtime`: the answering controller's router channel. */
export interface RuntimeStatus {
  /** The answering controller's node id. */
  readonly controller: string;
  readonly routers: readonly ConnectedRouter[];
  readonly links: number;
  /** Circuits this controller owns. */
  readonly circuits: number;
  /** Router messages dropped, by reason. */
  readonly dropped: Readonly<Record<string, number>>;
  readonly droppedTotal: number;
  readonly refusedHandshakes: number;
  readonly faultsReceived: number;
  readonly faultsNotOwned: number;
  readonly reroutes: number;
  readonly delayMs: number;
}

/** A live link between two routers, as they report it. */
export interface RuntimeLink {
  readonly id: string;
  readonly dialer: string;
  readonly acceptor: string;
  readonly dialerName: string;
  readonly acceptorName: string;
  /** Round-trip time measured by the dialer, in ms. */
  readonly latencyMs: number;
  /** The ends (router ids) that currently report it. */
  readonly reportedBy: readonly string[];
}

export interface CircuitPath {
  /** Router ids, ingress first. */
  readonly routers: readonly string[];
  /** `links[i]` joins `routers[i]` and `routers[i + 1]`. */
  readonly links: readonly string[];
  readonly cost: number;
}

/** A circuit with its owner (the controller that made it and keeps its routes). */
export interface Circuit {
  readonly id: string;
  /** The owning controller's node id. */
  readonly owner: string;
  readonly ownerName: string;
  readonly identityId: string;
  readonly serviceId: string;
  readonly ingress: string;
  readonly egress: string;
  readonly terminatorId: string;
  readonly path: CircuitPath;
  /** The path's routers by name, ingress first. */
  readonly routerNames: readonly string[];
  readonly createdAt: string;
  readonly updatedAt: string;
  /** How many times a link failure moved it to another path. */
  readonly reroutes: number;
}

export interface LinkList {
  readonly data: RuntimeLink[];
  readonly meta: { readonly total: number };
}

export interface CircuitList {
  readonly data: Circuit[];
  readonly meta: {
    readonly total: number;
    /** Members that did not answer in time: their circuits are missing from `data`. */
    readonly unreachable: readonly string[];
  };
}

export interface CreateCircuitRequest {
  /** Names or ids. */
  readonly identity: string;
  readonly service: string;
  readonly ingressRouter: string;
}
