/**
 * The zod schemas the routes validate with; the OpenAPI document is generated from the same
 * objects. Bodies are strict (an unknown field is a 400), query strings too. Entity bodies come
 * from the model's own table (core/model/entities.ts), so the API cannot drift from apply.
 */
import { z } from 'zod';
import { collectionNames, spec, type Collection } from '../model/entities.js';
import { MAX_FILTER_BYTES } from '../model/filter/index.js';
import { MAX_LIMIT } from '../model/queries.js';

const count = (max: number) => z.coerce.number().int().min(0).max(max);

export const readQuery = {
  minIndex: count(Number.MAX_SAFE_INTEGER)
    .optional()
    .describe('wait until this node has applied this Raft index (504 after a bound)'),
  consistency: z
    .enum(['local', 'linearizable'])
    .optional()
    .describe('linearizable asks the leader for its commit index first (ReadIndex)'),
};

export const readQuerySchema = z.strictObject(readQuery);

export const listQuerySchema = z.strictObject({
  limit: count(MAX_LIMIT).optional(),
  offset: count(Number.MAX_SAFE_INTEGER).optional(),
  filter: z.string().max(MAX_FILTER_BYTES).optional().describe('filter language, see docs/ARCHITECTURE.md'),
  sort: z.string().max(1024).optional().describe('comma-separated fields, "-" for descending'),
  ...readQuery,
});

export const idParams = z.strictObject({ id: z.string().min(1).max(255) });

export const collectionOf = (c: Collection) => z.literal(c);

const password = z.string().min(8).max(1024);
const adminCreate = z.strictObject({
  username: z.string().trim().min(1).max(255),
  password,
  tags: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).default({}),
});

/** A create body: the model's create schema; for admins a password instead of its hash. */
export function createBody(c: Collection): z.ZodObject {
  return c === 'admins' ? adminCreate : spec(c).create;
}

/**
 * A patch body: every field optional and without its default, so that a patch changes only what
 * it names (zod fills defaults even under `.optional()`).
 */
export function patchBody(c: Collection): z.ZodObject {
  const shape = createBody(c).shape as Record<string, z.ZodType>;
  const fields: Record<string, z.ZodType> = {};
  for (const [name, schema] of Object.entries(shape)) {
    const bare = schema instanceof z.ZodDefault ? (schema.unwrap() as z.ZodType) : schema;
    fields[name] = bare.optional();
  }
  return z.strictObject(fields);
}

export const loginBody = z.strictObject({
  username: z.string().min(1).max(255),
  password: z.string().min(1).max(1024),
});

const collection = z.enum(collectionNames);
const entityId = z.string().min(1).max(255);
const revision = z.number().int().positive().optional();
const data = z.record(z.string(), z.unknown());

export const batchOperation = z.discriminatedUnion('op', [
  z.strictObject({
    op: z.literal('create'),
    collection,
    /** Optional so that later operations of the batch can name what earlier ones create. */
    id: entityId.optional(),
    data,
  }),
  z.strictObject({ op: z.literal('patch'), collection, id: entityId, data, ifRevision: revision }),
  z.strictObject({ op: z.literal('delete'), collection, id: entityId, ifRevision: revision }),
]);

export type BatchOperation = z.infer<typeof batchOperation>;

export const MAX_BATCH_OPERATIONS = 1000;

export const batchBody = z.strictObject({
  operations: z.array(batchOperation).min(1).max(MAX_BATCH_OPERATIONS),
});

export const identityServicesQuery = z.strictObject({
  type: z.enum(['dial', 'bind', 'Dial', 'Bind']).default('dial'),
  ...readQuery,
});

export const policyCheckQuery = z.strictObject({
  identity: entityId,
  service: entityId,
  type: z.enum(['dial', 'bind', 'Dial', 'Bind']).default('dial'),
  ...readQuery,
});

export const addMemberBody = z.strictObject({
  address: z
    .string()
    .max(300)
    .regex(/^[^\s:/]+:[0-9]{1,5}$|^\[[0-9a-fA-F:.]+\]:[0-9]{1,5}$/, 'host:port'),
  id: z.string().min(1).max(255).optional(),
  name: z.string().min(1).max(255).optional(),
  apiUrl: z.url().max(1024).optional(),
  voter: z.boolean().optional(),
});

export const memberParams = z.strictObject({ id: z.string().min(1).max(255) });

export const transferBody = z.strictObject({ to: z.string().min(1).max(255).optional() }).optional();

export const eventsQuery = z.strictObject({
  since: count(Number.MAX_SAFE_INTEGER).optional().describe('Raft index: events after it'),
  limit: count(10_000).optional(),
});
