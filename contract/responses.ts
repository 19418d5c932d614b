/**
 * What the API answers. The routes declare these as their response schemas (the OpenAPI document
 * then describes the answers, and fastify serialises through them: a field not named here is not
 * sent), and the UI takes its types from them. Error answers are problem+json (`problem`).
 */
import { z } from 'zod';
import {
  ADMIN_ROLES,
  collectionNames,
  entityNames,
  entitySchema,
  type CollectionName,
} from './collections.js';
import { binary, described, named } from './openapi.js';

const index = z.number().int().min(0);
/** Answers' lists are readonly: the node hands over what it holds, the UI only reads. */
const list = <T extends z.ZodType>(item: T) => z.array(item).readonly();

/** One field's error in a problem+json answer. */
export const fieldError = named('FieldError', z.object({ field: z.string(), message: z.string() }));

/** An `application/problem+json` body (RFC 9457) as this API writes it. */
export const problem = named(
  'Problem',
  z.object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    /** A stable machine-readable code (`NAME_TAKEN`, `NO_RUNTIME`, …): errors are told apart by it. */
    code: described(z.string(), 'a stable machine-readable code (NAME_TAKEN, NO_LEADER, …)'),
    errors: list(fieldError).optional(),
  }),
  'An error, as application/problem+json (RFC 9457)',
);

export const loginAnswer = named(
  'LoginAnswer',
  z.object({
    token: z.string(),
    expiresAt: z.string(),
    /** What the admin may do (ADMIN_ROLES), for the UI to offer only that; the API enforces it. */
    role: z.enum(ADMIN_ROLES),
  }),
);

export const listMeta = named('ListMeta', z.object({ total: index, limit: index, offset: index }));

/** One schema per collection and kind of answer, so that the document names each once. */
function perCollection<T extends z.ZodType>(build: (c: CollectionName) => T): (c: CollectionName) => T {
  const built = new Map<CollectionName, T>();
  return (c) => {
    let schema = built.get(c);
    if (!schema) {
      schema = build(c);
      built.set(c, schema);
    }
    return schema;
  };
}

/** A page of a collection: `{data, meta: {total, limit, offset}}`. */
export const entityList = perCollection((c) =>
  named(`${entityNames[c]}List`, z.object({ data: list(entitySchema(c)), meta: listMeta })),
);

/**
 * A write's answer: the entity as the write left it. A replayed answer stored before results
 * carried their entity names only its id and revision.
 */
export const writtenEntity = perCollection((c) =>
  named(
    `Written${entityNames[c]}`,
    z.union([entitySchema(c), z.object({ id: z.string(), revision: z.number().int() })]),
  ),
);

/** `DELETE /<collection>/:id`: no body; X-Raft-Index names the entry that deleted it. */
export const entityDeleted = described(z.null(), 'Deleted; X-Raft-Index names the entry that deleted it');
/** `POST /auth/logout`: every session of the admin has ended, on every node. */
export const signedOut = described(
  z.null(),
  'Signed out everywhere: every token of this admin is refused from X-Raft-Index on',
);

/** One operation's result in a batch's answer, for an entity of `c`. */
function appliedOperationOn(c: CollectionName) {
  return z.object({
    ok: z.literal(true),
    op: z.enum(['create', 'patch', 'update', 'delete']),
    collection: z.literal<CollectionName>(c),
    id: z.string(),
    /** The entity's revision after the operation (0 once deleted). */
    revision: index,
    /** The entity as the operation left it: absent after a delete, and in results replayed from
     * before results carried it. */
    entity: entitySchema(c).optional(),
  });
}

/** One operation's result in a batch's answer: what it did to which entity. */
export const appliedOperation = named(
  'AppliedOperation',
  z.discriminatedUnion(
    'collection',
    collectionNames.map(appliedOperationOn) as [
      ReturnType<typeof appliedOperationOn>,
      ...ReturnType<typeof appliedOperationOn>[],
    ],
  ),
);

/** `POST /batch`: the entry's Raft index and each operation's result, in order. */
export const batchAnswer = named('BatchAnswer', z.object({ index, results: list(appliedOperation) }));

/** `GET /identities/:id/services`: the services an identity may use. */
export const identityServices = named(
  'IdentityServices',
  z.object({ data: list(entitySchema('services')), meta: z.object({ total: index }) }),
);

export const policyRef = named('PolicyRef', z.object({ id: z.string(), name: z.string() }));

export const policyCheck = named(
  'PolicyCheck',
  z.object({
    allowed: z.boolean(),
    /** The service policies of the asked type that select both the identity and the service. */
    policies: list(policyRef),
    /** What stands between the identity and the service, in an admin's words; empty when allowed. */
    missing: list(z.string()),
  }),
);

/** `GET /health` (no auth): 200 when up, 503 while starting, with the same fields. */
export const health = named(
  'Health',
  z.object({
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
  }),
);

export const clusterMember = named(
  'ClusterMember',
  z.object({
    id: z.string(),
    name: z.string(),
    address: z.string(),
    apiUrl: z.string().nullable(),
    voter: z.boolean(),
    leader: z.boolean(),
    /** Whether the answering node has a live cluster connection to it (true for itself). */
    connected: z.boolean(),
    /**
     * Whether the answering node hears from it: connected and, where Raft traffic flows between
     * the two (leader and follower), heard from within the last 2 s. Leadership moves only to a
     * reachable member.
     */
    reachable: z.boolean(),
    /** The leader's match index for it; null when the answering node is not the leader. */
    matchIndex: index.nullable(),
    appliedIndex: index.nullable(),
    /** Milliseconds since the answering node last heard from it; null when never. */
    lastContactMs: z.number().min(0).nullable(),
  }),
);

export const clusterView = named(
  'ClusterView',
  z.object({
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
  }),
);

// --- runtime: routers, links and circuits (in memory on each controller, never replicated) -----

/** A router connected to the answering controller's router channel. */
export const connectedRouter = named(
  'ConnectedRouter',
  z.object({
    id: z.string(),
    name: z.string(),
    /** The router's link listener (host:port), when it has one. */
    listen: z.string().nullable(),
    connectedSince: z.string(),
    /** The serial (hex) of the certificate it connected on: routers prove themselves by it alone. */
    certificateSerial: z.string(),
  }),
);

/** `GET /runtime`: the answering controller's router channel. */
export const runtimeStatus = named(
  'RuntimeStatus',
  z.object({
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
    /** Router sessions closed because the model deleted, disabled or renamed their router. */
    sessionsCut: index,
    faultsReceived: index,
    /** Faults for circuits this controller does not own (sent to every controller, or stale). */
    faultsNotOwned: index,
    reroutes: index,
    /** Injected delay on the router channel (tests, lab). */
    delayMs: z.number().min(0),
  }),
);

/** A live link between two routers, as they report it. */
export const runtimeLink = named(
  'Link',
  z.object({
    id: z.string(),
    dialer: z.string(),
    acceptor: z.string(),
    dialerName: z.string(),
    acceptorName: z.string(),
    /** Round-trip time measured by the dialer, in ms. */
    latencyMs: z.number(),
    /** The ends (router ids) that currently report it. */
    reportedBy: list(z.string()),
  }),
);

export const circuitPath = named(
  'CircuitPath',
  z.object({
    /** Router ids, ingress first. */
    routers: list(z.string()),
    /** `links[i]` joins `routers[i]` and `routers[i + 1]`. */
    links: list(z.string()),
    /** Router costs plus link latencies. */
    cost: z.number(),
  }),
);

/** A circuit with its owner (the controller that made it and keeps its routes). */
export const circuit = named(
  'Circuit',
  z.object({
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
  }),
);

export const linkList = named(
  'LinkList',
  z.object({ data: list(runtimeLink), meta: z.object({ total: index }) }),
);

export const circuitList = named(
  'CircuitList',
  z.object({
    data: list(circuit),
    meta: z.object({
      total: index,
      /** Members that did not answer in time: their circuits are missing from `data`. */
      unreachable: list(z.string()),
    }),
  }),
);

/**
 * `POST /circuits`: the circuit as the ingress router's controller made it, in the router
 * protocol's terms (names where the full circuit has ids; the runtime view has the rest).
 */
export const createdCircuit = named(
  'CreatedCircuit',
  z.object({
    id: z.string(),
    owner: z.string(),
    ownerName: z.string(),
    identity: z.string(),
    service: z.string(),
    /** The path's routers by name, ingress first. */
    routers: list(z.string()),
    links: list(z.string()),
    cost: z.number(),
  }),
);

export const circuitDeleted = named('CircuitDeleted', z.object({ id: z.string(), deleted: z.boolean() }));

// --- cluster operations ------------------------------------------------------------------------

/** `POST /cluster/members`: the new member (a learner until caught up) and the entry that added it. */
export const memberAdded = named('MemberAdded', z.object({ id: z.string(), index }));
/** `POST /cluster/join`: the signed chain (leaf, intermediate) and the cluster root CA. */
export const issuedCertificate = named(
  'IssuedCertificate',
  z.object({ certificate: z.string(), ca: z.string(), fingerprint: z.string() }),
);
/**
 * `POST /routers/enroll`: the router's certificate (leaf + intermediate), the cluster root, which
 * router it names, and the controllers' cluster listeners to connect to (`https://host:port`).
 */
export const routerEnrollment = named(
  'RouterEnrollment',
  z.object({
    certificate: z.string(),
    ca: z.string(),
    fingerprint: z.string(),
    clusterId: z.string(),
    router: z.object({ id: z.string(), name: z.string() }),
    controllers: z.array(z.string()),
  }),
);
/**
 * `GET /routers/:id/enrollment`: whether the router holds a good certificate (the one it enrolled
 * for; none once disabled or never enrolled) and its enrollment tokens not used yet.
 */
export const routerEnrollmentState = named(
  'RouterEnrollmentState',
  z.object({
    routerId: z.string(),
    enrolled: z.boolean(),
    certificate: z.object({ serial: z.string(), issuedAt: z.string(), expiresAt: z.string() }).nullable(),
    pendingTokens: index,
  }),
);
/** `GET /cluster/ca`: the cluster root CA and its SHA-256 fingerprint. */
export const clusterCa = named('ClusterCa', z.object({ certificate: z.string(), fingerprint: z.string() }));
/** A one-time join token as admins see it (never its secret). */
export const invitation = named(
  'Invitation',
  z.object({
    id: z.string(),
    kind: z.enum(['controller', 'router']),
    createdAt: z.string(),
    createdBy: z.string().nullable(),
    expiresAt: z.string(),
    usedAt: z.string().nullable(),
    /** The node that joined with it. */
    usedBy: z.string().nullable(),
    revokedAt: z.string().nullable(),
    /** A router invitation's router id (the only router its token enrolls); null for a controller's. */
    subject: z.string().nullable(),
    state: z.enum(['pending', 'used', 'expired', 'revoked']),
  }),
);
export const invitationList = named('InvitationList', z.object({ data: list(invitation) }));
/** `POST /cluster/invitations`: the token, shown this once (the cluster keeps only its secret's hash). */
export const createdInvitation = named('CreatedInvitation', z.object({ token: z.string(), invitation }));
/** `DELETE /cluster/members/:id`: the entry that removed it. */
export const memberRemoved = named('MemberRemoved', z.object({ index }));
/** `POST /cluster/transfer-leadership`: who leads now. */
export const leadershipTransferred = named('LeadershipTransferred', z.object({ leaderId: z.string() }));
/** `POST /cluster/snapshot`: the index the snapshot covers. */
export const snapshotTaken = named('SnapshotTaken', z.object({ index }));
/**
 * `POST /cluster/token-keys/rotate`: the token signing keys retired (every token they signed is
 * refused from now on, on every node), and the index of that write (this node's applied index when
 * there was nothing to retire).
 */
export const tokenKeysRotated = named('TokenKeysRotated', z.object({ retired: z.array(z.string()), index }));

/** `POST /cluster/ca/rotate`: the new intermediate CA, and the write that installed it. */
export const caRotated = named(
  'CaRotated',
  z.object({
    /** SHA-256 fingerprint of the new intermediate certificate. */
    fingerprint: z.string(),
    notAfter: z.string(),
    /** With `newRoot`: the new root's SHA-256 fingerprint (everyone's root once finished). */
    root: z.string().optional(),
    index,
  }),
);

/**
 * `POST /cluster/ca/finish-rotation`: the intermediate CAs retired (their certificates open
 * nothing from now on; none when no rotation was waiting to finish), and the index of that write.
 */
export const caRotationFinished = named(
  'CaRotationFinished',
  z.object({
    retired: z.array(z.string()),
    /** The root everyone trusts from now on, when the rotation introduced a new one. */
    root: z.string().optional(),
    index,
  }),
);

/** `PUT /runtime/faults`: the router channel's delay now. */
export const runtimeFaults = named('RuntimeFaults', z.object({ routerDelayMs: z.number().min(0) }));

// --- events (GET /events and the socket.io namespace /events) ----------------------------------

/** An entity created, changed or deleted, at the Raft index of its entry. */
export const entityEvent = z.object({
  kind: z.literal('entity'),
  index,
  op: z.enum(['create', 'update', 'patch', 'delete']),
  collection: z.enum(collectionNames),
  id: z.string(),
  /** Revision after the change (0 once deleted). */
  revision: index,
});

/** A change of this node's role, of the leader, or of the membership. */
export const clusterEvent = z.object({
  kind: z.literal('cluster'),
  /** The membership entry's index, or the applied index at which this node saw the change. */
  index,
  type: z.enum(['role', 'leader', 'membership']),
  role: z.string().optional(),
  leaderId: z.string().optional(),
  term: index.optional(),
  voters: list(z.string()).optional(),
  learners: list(z.string()).optional(),
});

/** Runtime data (not replicated): this node's link table and the circuits it owns. */
export const runtimeEvent = z.object({
  kind: z.literal('runtime'),
  /** The applied index at which this node saw it (runtime data has no Raft index of its own). */
  index,
  type: z.enum(['link.up', 'link.down', 'circuit.created', 'circuit.rerouted', 'circuit.deleted']),
  /** The link's or the circuit's id. */
  id: z.string(),
  reason: z.string().optional(),
  /** The routers at both ends of the link, or on the circuit's path. */
  routers: list(z.string()).optional(),
});

/** What the node stamps on each event as it records it. */
const recorded = {
  /** This node's sequence number of the event (resets when the node restarts). */
  seq: z.number().int().positive(),
  at: z.string(),
};

export const apiEvent = named(
  'Event',
  z.discriminatedUnion('kind', [
    entityEvent.extend(recorded),
    clusterEvent.extend(recorded),
    runtimeEvent.extend(recorded),
  ]),
);

/** `GET /events`: the events after `since`, oldest first. */
export const eventPage = named(
  'EventPage',
  z.object({
    data: list(apiEvent),
    meta: z.object({
      /** True when events after `since` were already dropped from the ring: reload, then follow. */
      truncated: z.boolean(),
      latestIndex: index,
    }),
  }),
);

// --- documents and files -------------------------------------------------------------------------

/** `GET /openapi.json`: an OpenAPI 3.1 document (this one). */
export const openApiDocument = z.looseObject({
  openapi: z.string(),
  info: z.looseObject({ title: z.string(), version: z.string() }),
  paths: z.record(z.string(), z.unknown()),
});

/** `GET /backup`: a SQLite database file. */
export const backupFile = binary('the model as a SQLite database file, exactly as of X-Raft-Index');

/** `GET /metrics`: Prometheus text exposition format. */
export const metricsText = described(z.string(), 'Prometheus text exposition format 0.0.4');
