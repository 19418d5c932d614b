/**
 * What the API's requests may hold: query strings, path parameters and bodies. The routes
 * validate with these (fastify-type-provider-zod), the OpenAPI document is generated from them,
 * and the UI builds its requests to them. Bodies and query strings are strict: an unknown field
 * is a 400. Entity bodies are in collections.ts (createSchema, patchSchema).
 */
import { z } from 'zod';
import { collectionNames } from './collections.js';
import { described, named } from './openapi.js';

/** The most rows a list answers. */
export const MAX_LIMIT = 1000;
/** The longest filter a list takes, in bytes. */
export const MAX_FILTER_BYTES = 4096;
export const MAX_BATCH_OPERATIONS = 1000;

const count = (max: number) => z.coerce.number().int().min(0).max(max);
const entityId = z.string().min(1).max(255);

export const readQuery = {
  minIndex: described(
    count(Number.MAX_SAFE_INTEGER).optional(),
    'wait until this node has applied this Raft index (504 after a bound)',
  ),
  consistency: described(
    z.enum(['local', 'linearizable']).optional(),
    'linearizable asks the leader for its commit index first (ReadIndex)',
  ),
};

export const readQuerySchema = z.strictObject(readQuery);

export const listQuerySchema = z.strictObject({
  limit: count(MAX_LIMIT).optional(),
  offset: count(Number.MAX_SAFE_INTEGER).optional(),
  filter: described(z.string().max(MAX_FILTER_BYTES).optional(), 'filter language, see docs/ARCHITECTURE.md'),
  sort: described(z.string().max(1024).optional(), 'comma-separated fields, "-" for descending'),
  ...readQuery,
});

/** A list request as a client builds it (the read-point parameters left out). */
export type ListQuery = Pick<z.input<typeof listQuerySchema>, 'filter' | 'sort'> & {
  readonly limit?: number;
  readonly offset?: number;
};

export const idParams = z.strictObject({ id: entityId });

export const loginBody = named(
  'LoginRequest',
  z.strictObject({
    username: z.string().min(1).max(255),
    password: z.string().min(1).max(1024),
  }),
);

const collection = z.enum(collectionNames);
const revision = z.number().int().positive().optional();
/** An operation's fields: checked against its collection's schema by the write path. */
const data = z.record(z.string(), z.unknown());

export const batchOperation = named(
  'BatchOperation',
  z.discriminatedUnion('op', [
    z.strictObject({
      op: z.literal('create'),
      collection,
      /** Optional so that later operations of the batch can name what earlier ones create. */
      id: entityId.optional(),
      data,
    }),
    z.strictObject({ op: z.literal('patch'), collection, id: entityId, data, ifRevision: revision }),
    z.strictObject({ op: z.literal('delete'), collection, id: entityId, ifRevision: revision }),
  ]),
);

export type BatchOperation = z.infer<typeof batchOperation>;

export const batchBody = named(
  'BatchRequest',
  z.strictObject({ operations: z.array(batchOperation).min(1).max(MAX_BATCH_OPERATIONS) }),
);

const policyType = z.enum(['dial', 'bind', 'Dial', 'Bind']).default('dial');

export const identityServicesQuery = z.strictObject({ type: policyType, ...readQuery });

export const policyCheckQuery = z.strictObject({
  identity: entityId,
  service: entityId,
  type: policyType,
  ...readQuery,
});

export const addMemberBody = named(
  'AddMemberRequest',
  z.strictObject({
    address: z
      .string()
      .max(300)
      .regex(/^[^\s:/]+:[0-9]{1,5}$|^\[[0-9a-fA-F:.]+\]:[0-9]{1,5}$/, 'host:port'),
    /** The node's own id (it printed it at its first start; its /health says it): required. */
    id: z.string().min(1).max(64),
    name: z.string().min(1).max(255).optional(),
    apiUrl: z.url().max(1024).optional(),
    voter: z.boolean().optional(),
  }),
);

export type AddMemberRequest = z.input<typeof addMemberBody>;

/**
 * `POST /cluster/join`: a join token spent for this node's certificate, signed by the member with
 * the cluster CA (the token is the credential; the node is named by the request, never by the CSR).
 */
export const joinBody = named(
  'JoinRequest',
  z.strictObject({
    token: described(z.string().min(1).max(4096), 'the one-time join token from meshdesk cluster invite'),
    id: described(z.string().regex(/^[A-Za-z0-9_-]{1,64}$/), 'the joining node’s id'),
    host: described(
      z
        .string()
        .min(1)
        .max(253)
        .regex(/^[A-Za-z0-9.:-]+$/, 'a host name or IP address'),
      'the name or address others reach the node at (its certificate’s SAN)',
    ),
    hosts: described(
      z
        .array(
          z
            .string()
            .min(1)
            .max(253)
            .regex(/^[A-Za-z0-9.:-]+$/, 'a host name or IP address'),
        )
        .max(8)
        .optional(),
      'more names and addresses the node is reached at (its API’s, its machine name)',
    ),
    csr: described(z.string().min(1).max(16_384), 'a PKCS#10 request, PEM'),
  }),
);

/** The longest a join token may live: a week. */
export const MAX_INVITATION_MINUTES = 7 * 24 * 60;

/** `POST /cluster/invitations`: a one-time join token for a new controller. */
export const createInvitationBody = named(
  'CreateInvitationRequest',
  z.strictObject({
    expiresInMinutes: described(
      z.number().int().min(1).max(MAX_INVITATION_MINUTES).default(60),
      'how long the token works (default 60 minutes, at most a week)',
    ),
  }),
);

/**
 * `POST /routers/enroll`: a router's one-time enrollment token spent for its certificate. The
 * router is the one the token's invitation names; the CSR's key stays with the router.
 */
export const routerEnrollBody = named(
  'RouterEnrollRequest',
  z.strictObject({
    token: described(
      z.string().min(1).max(4096),
      'the one-time enrollment token from POST /routers/{id}/enrollment',
    ),
    csr: described(z.string().min(1).max(16_384), 'a PKCS#10 request, PEM'),
  }),
);

export const invitationParams = z.strictObject({ id: z.string().min(1).max(64) });

export const memberParams = z.strictObject({ id: z.string().min(1).max(255) });

/**
 * `POST /cluster/transfer-leadership`. Optional bodies are nullish: a POST with no body at all
 * reaches validation as null.
 */
export const transferBody = z.strictObject({ to: z.string().min(1).max(255).optional() }).nullish();

/** `POST /cluster/ca/rotate`: with `newRoot`, a new root signs the new intermediate. */
export const rotateCaBody = z.strictObject({ newRoot: z.boolean().optional() }).nullish();

export const eventsQuery = z.strictObject({
  since: described(count(Number.MAX_SAFE_INTEGER).optional(), 'Raft index: events after it'),
  limit: count(10_000).optional(),
});

// --- runtime: circuits by hand, and the router channel's delay fault --------------------------

const runtimeRef = z.string().min(1).max(256);

export const createCircuitBody = named(
  'CreateCircuitRequest',
  z.strictObject({
    /** Names or ids. */
    identity: runtimeRef,
    service: runtimeRef,
    ingressRouter: runtimeRef,
  }),
);

export type CreateCircuitRequest = z.input<typeof createCircuitBody>;

export const circuitParams = z.strictObject({ id: z.string().min(1).max(128) });
export const circuitsQuery = z.strictObject({ scope: z.enum(['cluster', 'local']).default('cluster') });
export const runtimeFaultsBody = z.strictObject({ routerDelayMs: z.number().int().min(0).max(60_000) });
