/**
 * What the API answers. The routes declare these as their response schemas (the OpenAPI document
 * then describes the answers, and fastify serialises through them: a field not named here is not
 * sent), and the UI takes its types from them. Error answers are problem+json (`problem`).
 */
import { z } from 'zod';
import { entitySchema, type CollectionName } from './collections.js';

const index = z.number().int().min(0);
/** Answers' lists are readonly: the node hands over what it holds, the UI only reads. */
const list = <T extends z.ZodType>(item: T) => z.array(item).readonly();

/** One field's error in a problem+json answer. */
export const fieldError = z.object({ field: z.string(), message: z.string() });

/** An `application/problem+json` body (RFC 9457) as this API writes it. */
export const problem = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  /** A stable machine-readable code (`NAME_TAKEN`, `NO_RUNTIME`, …): errors are told apart by it. */
  code: z.string(),
  errors: list(fieldError).optional(),
});

export const loginAnswer = z.object({ token: z.string(), expiresAt: z.string() });

export const listMeta = z.object({ total: index, limit: index, offset: index });

/** A page of a collection: `{data, meta: {total, limit, offset}}`. */
export function entityList(c: CollectionName) {
  return z.object({ data: list(entitySchema(c)), meta: listMeta });
}

/**
 * A write's answer: the entity as the write left it. A replayed answer stored before results
 * carried their entity names only its id and revision.
 */
export function writtenEntity(c: CollectionName) {
  return z.union([entitySchema(c), z.object({ id: z.string(), revision: z.number().int() })]);
}

/** `GET /identities/:id/services`: the services an identity may use. */
export const identityServices = z.object({
  data: list(entitySchema('services')),
  meta: z.object({ total: index }),
});

export const policyRef = z.object({ id: z.string(), name: z.string() });

export const policyCheck = z.object({
  allowed: z.boolean(),
  /** The service policies of the asked type that select both the identity and the service. */
  policies: list(policyRef),
  /** What stands between the identity and the service, in an admin's words; empty when allowed. */
  missing: list(z.string()),
});

/** `GET /health` (no auth): 200 when up, 503 while starting, with the same fields. */
export const health = z.object({
  /** `up`, or `starting` until this node's bootstrap or join has finished. */
  status: z.enum(['starting', 'up']),
  nodeId: z.string(),
  name: z.string(),
  clusterId: z.string(),
  role: z.string(),
  /** '' when no leader is known. */
  leaderId: z.string(),
  term: index,
  commitIndex: index,
  appliedIndex: index,
  lastIndex: index,
});

export const clusterMember = z.object({
  id: z.string(),
  name: z.string(),
  address: z.string(),
  apiUrl: z.string().nullable(),
  voter: z.boolean(),
  leader: z.boolean(),
  /** Whether the answering node has a live cluster connection to it (true for itself). */
  connected: z.boolean(),
  /** The leader's match index for it; null when the answering node is not the leader. */
  matchIndex: index.nullable(),
  appliedIndex: index.nullable(),
  /** Milliseconds since the answering node last heard from it; null when never. */
  lastContactMs: z.number().min(0).nullable(),
});

export const clusterView = z.object({
  clusterId: z.string(),
  /** The node that answered. */
  nodeId: z.string(),
  /** '' when no leader is known. */
  leaderId: z.string(),
  role: z.string(),
  term: index,
  commitIndex: index,
  appliedIndex: index,
  members: list(clusterMember),
});

// --- runtime: routers, links and circuits (in memory on each controller, never replicated) -----

/** A router connected to the answering controller's router channel. */
export const connectedRouter = z.object({
  id: z.string(),
  name: z.string(),
  /** The router's link listener (host:port), when it has one. */
  listen: z.string().nullable(),
  connectedSince: z.string(),
});

/** `GET /runtime`: the answering controller's router channel. */
export const runtimeStatus = z.object({
  /** The answering controller's node id. */
  controller: z.string(),
  routers: list(connectedRouter),
  links: index,
  /** Circuits this controller owns. */
  circuits: index,
  /** Router messages dropped, by reason. */
  dropped: z.record(z.string(), index),
  droppedTotal: index,
  refusedHandshakes: index,
  faultsReceived: index,
  /** Faults for circuits this controller does not own (sent to every controller, or stale). */
  faultsNotOwned: index,
  reroutes: index,
  /** Injected delay on the router channel (tests, lab). */
  delayMs: z.number().min(0),
});

/** A live link between two routers, as they report it. */
export const runtimeLink = z.object({
  id: z.string(),
  dialer: z.string(),
  acceptor: z.string(),
  dialerName: z.string(),
  acceptorName: z.string(),
  /** Round-trip time measured by the dialer, in ms. */
  latencyMs: z.number(),
  /** The ends (router ids) that currently report it. */
  reportedBy: list(z.string()),
});

export const circuitPath = z.object({
  /** Router ids, ingress first. */
  routers: list(z.string()),
  /** `links[i]` joins `routers[i]` and `routers[i + 1]`. */
  links: list(z.string()),
  /** Router costs plus link latencies. */
  cost: z.number(),
});

/** A circuit with its owner (the controller that made it and keeps its routes). */
export const circuit = z.object({
  id: z.string(),
  /** The owning controller's node id. */
  owner: z.string(),
  ownerName: z.string(),
  identityId: z.string(),
  serviceId: z.string(),
  ingress: z.string(),
  egress: z.string(),
  terminatorId: z.string(),
  path: circuitPath,
  /** The path's routers by name, ingress first. */
  routerNames: list(z.string()),
  createdAt: z.string(),
  updatedAt: z.string(),
  /** How many times a link failure moved it to another path. */
  reroutes: index,
});

export const linkList = z.object({ data: list(runtimeLink), meta: z.object({ total: index }) });

export const circuitList = z.object({
  data: list(circuit),
  meta: z.object({
    total: index,
    /** Members that did not answer in time: their circuits are missing from `data`. */
    unreachable: list(z.string()),
  }),
});

/**
 * `POST /circuits`: the circuit as the ingress router's controller made it, in the router
 * protocol's terms (names where the full circuit has ids; the runtime view has the rest).
 */
export const createdCircuit = z.object({
  id: z.string(),
  owner: z.string(),
  ownerName: z.string(),
  identity: z.string(),
  service: z.string(),
  /** The path's routers by name, ingress first. */
  routers: list(z.string()),
  links: list(z.string()),
  cost: z.number(),
});

export const circuitDeleted = z.object({ id: z.string(), deleted: z.boolean() });
