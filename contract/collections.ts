/**
 * The collections of the REST API and every entity's fields, in one table and one kind
 * vocabulary. A field's builder gives its kind, its constraints and the zod schema a create
 * request checks it with, from the same arguments; the model (tables, columns, filters, sorts),
 * the API (request and response schemas) and the UI (forms, columns) all read this table.
 * Plain zod only: core/ and renderer/ (through Vite) both import it.
 */
import { z } from 'zod';
import { jsonBoundsProblem } from './json-bounds.js';
import { named } from './openapi.js';

/** The REST names of the collections (DESIGN.md section 4), in the order the UI lists them. */
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

/**
 * What a field holds, as the API shows it.
 * - `string`, `enum` (one of `options`), `integer`, `boolean`, `datetime` (ISO 8601, UTC): scalars,
 *   which lists may sort on and filters compare.
 * - `ref`: the id of an entity of `ref`; `refs`: a list of them.
 * - `roles`: a role list (`#attribute`, `@id`, `#all`); `attributes`: the role attributes an
 *   entity carries. Both lists of strings.
 * - `json`: a JSON object, returned but neither filtered nor sorted on.
 * - `password`: write-only; a request carries it, no answer does.
 */
export type FieldKind =
  | 'string'
  | 'enum'
  | 'integer'
  | 'boolean'
  | 'datetime'
  | 'json'
  | 'roles'
  | 'attributes'
  | 'ref'
  | 'refs'
  | 'password';

export interface Field {
  readonly kind: FieldKind;
  /** What a create request takes for it; defaults are filled in. */
  readonly input: z.ZodType;
  /**
   * What the model applies for it, where that is looser than `input`: a bound added to requests
   * later must not change how an entry already in a log applies on replay (replicas would
   * diverge), so apply keeps the older rule and the API refuses before proposing.
   */
  readonly applyInput?: z.ZodType;
  readonly options?: readonly string[];
  readonly ref?: CollectionName;
  /** May be null (a `ref` that is not set). */
  readonly nullable?: boolean;
  /** Bounds: of a string's length, an integer's value, a list's length. */
  readonly min?: number;
  readonly max?: number;
  /** What a create without the field gets; absent: the field is required. */
  readonly default?: string | number | boolean | null | readonly string[] | Record<string, never>;
}

/** Any JSON value: one schema, named in the OpenAPI document (it refers to itself). */
export const jsonValue = named('JsonValue', z.json());

export type JsonValue = z.infer<typeof jsonValue>;

const ID_MAX = 255;

const text = (min: number, max: number, trim = false): Field => ({
  kind: 'string',
  min,
  max,
  input: (trim ? z.string().trim() : z.string()).min(min).max(max),
});
const name = text(1, 255, true);
const oneOf = <const T extends readonly [string, ...string[]]>(options: T, fallback?: T[number]): Field => ({
  kind: 'enum',
  options,
  input: fallback === undefined ? z.enum(options) : z.enum(options).default(fallback),
  ...(fallback === undefined ? {} : { default: fallback }),
});
const integer = (min: number, max: number, fallback: number): Field => ({
  kind: 'integer',
  min,
  max,
  default: fallback,
  input: z.number().int().min(min).max(max).default(fallback),
});
const boolean = (fallback: boolean): Field => ({
  kind: 'boolean',
  default: fallback,
  input: z.boolean().default(fallback),
});
const stringList = (kind: 'roles' | 'attributes'): Field => ({
  kind,
  max: 1000,
  default: [],
  input: z.array(z.string().max(255)).max(1000).default([]),
});
const roles = stringList('roles');
const attributes = stringList('attributes');
const entityId = z.string().min(1).max(ID_MAX);
const ref = (collection: CollectionName): Field => ({ kind: 'ref', ref: collection, input: entityId });
const optionalRef = (collection: CollectionName): Field => ({
  kind: 'ref',
  ref: collection,
  nullable: true,
  default: null,
  input: entityId.nullable().default(null),
});
const refs = (collection: CollectionName, max: number): Field => ({
  kind: 'refs',
  ref: collection,
  max,
  default: [],
  input: z.array(entityId).max(max).default([]),
});
const object = (): Field => ({
  kind: 'json',
  default: {},
  input: z
    .record(z.string(), z.unknown())
    .superRefine((value, ctx) => {
      const problem = jsonBoundsProblem(value);
      if (problem) ctx.addIssue({ code: 'custom', message: `the value ${problem}` });
    })
    .default({}),
  applyInput: z.record(z.string(), z.unknown()).default({}),
});
/** Tags: an object of scalars, on every entity. */
const tags: Field = {
  kind: 'json',
  default: {},
  input: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).default({}),
};
/**
 * What an admin may do: `admin` everything; `readonly` read everything but secrets (the backup,
 * the routers' secret) and change its own password (core/api/access.ts).
 */
export const ADMIN_ROLES = ['admin', 'readonly'] as const;
export type AdminRole = (typeof ADMIN_ROLES)[number];

/** The one password rule: the API takes it, the node stores only its hash. */
export const password: Field = { kind: 'password', min: 8, max: 1024, input: z.string().min(8).max(1024) };

const precedence = oneOf(['default', 'required', 'failed'], 'default');
const semantic = oneOf(['AllOf', 'AnyOf'], 'AllOf');
const cost = integer(0, 65535, 0);

export type FieldTable = Readonly<Record<string, Field>>;

/** Each collection's own fields, as a create request names them, in the order the UI shows them. */
export const collectionFields = {
  identities: {
    name,
    type: oneOf(['Device', 'User', 'Service', 'Router'], 'Device'),
    roleAttributes: attributes,
    defaultHostingPrecedence: precedence,
    defaultHostingCost: cost,
    tags,
  },
  services: {
    name,
    roleAttributes: attributes,
    configs: refs('configs', 100),
    encryptionRequired: boolean(true),
    terminatorStrategy: oneOf(['smartrouting', 'weighted', 'random', 'ha'], 'smartrouting'),
    tags,
  },
  routers: {
    name,
    roleAttributes: attributes,
    cost,
    noTraversal: boolean(false),
    disabled: boolean(false),
    tunnelerEnabled: boolean(false),
    tags,
  },
  terminators: {
    serviceId: ref('services'),
    routerId: ref('routers'),
    address: text(1, 1024),
    identityId: optionalRef('identities'),
    cost,
    precedence,
    tags,
  },
  'service-policies': {
    name,
    type: oneOf(['Dial', 'Bind']),
    semantic,
    identityRoles: roles,
    serviceRoles: roles,
    postureCheckRoles: roles,
    tags,
  },
  'edge-router-policies': { name, semantic, identityRoles: roles, routerRoles: roles, tags },
  'service-edge-router-policies': { name, semantic, serviceRoles: roles, routerRoles: roles, tags },
  configs: { name, configTypeId: ref('config-types'), data: object(), tags },
  'config-types': { name, schema: object(), tags },
  'posture-checks': {
    name,
    type: oneOf(['OS', 'MAC', 'MFA', 'PROCESS', 'DOMAIN']),
    roleAttributes: attributes,
    params: object(),
    tags,
  },
  admins: { username: name, password, role: oneOf(ADMIN_ROLES, 'admin'), tags },
} as const satisfies Record<CollectionName, FieldTable>;

/** The fields every entity has besides its own, as every answer carries them (after its own). */
export const bookkeepingFields = {
  id: { kind: 'string', input: entityId },
  createdAt: { kind: 'datetime', input: z.string() },
  updatedAt: { kind: 'datetime', input: z.string() },
  revision: { kind: 'integer', input: z.number().int().positive() },
} as const satisfies FieldTable;

/** Scalars sort (a top-N sort over a column is cheap); lists and objects do not. */
export function isSortable(kind: FieldKind): boolean {
  return (
    kind === 'string' ||
    kind === 'enum' ||
    kind === 'integer' ||
    kind === 'boolean' ||
    kind === 'datetime' ||
    kind === 'ref'
  );
}

/** Each collection's entity as the OpenAPI document names it (and its create and patch bodies). */
export const entityNames: Readonly<Record<CollectionName, string>> = {
  identities: 'Identity',
  services: 'Service',
  routers: 'Router',
  terminators: 'Terminator',
  'service-policies': 'ServicePolicy',
  'edge-router-policies': 'EdgeRouterPolicy',
  'service-edge-router-policies': 'ServiceEdgeRouterPolicy',
  configs: 'Config',
  'config-types': 'ConfigType',
  'posture-checks': 'PostureCheck',
  admins: 'Admin',
};

/** The order of a list when `sort` is not given (before the tiebreak on id). */
export const defaultSort: Readonly<Record<CollectionName, string>> = {
  identities: 'name',
  services: 'name',
  routers: 'name',
  terminators: 'createdAt',
  'service-policies': 'name',
  'edge-router-policies': 'name',
  'service-edge-router-policies': 'name',
  configs: 'name',
  'config-types': 'name',
  'posture-checks': 'name',
  admins: 'username',
};

// Built once per collection: routes and every operation of a batch check against them, and the
// OpenAPI document names each once.
const createSchemas = new Map<CollectionName, z.ZodObject>();
const patchSchemas = new Map<CollectionName, z.ZodObject>();

/** A create body: each field's input schema; strict (an unknown field is a 400). */
export function createSchema(c: CollectionName): z.ZodObject {
  let schema = createSchemas.get(c);
  if (!schema) {
    const shape: Record<string, z.ZodType> = {};
    for (const [field, f] of Object.entries(collectionFields[c] as FieldTable)) shape[field] = f.input;
    schema = named(`${entityNames[c]}Create`, z.strictObject(shape));
    createSchemas.set(c, schema);
  }
  return schema;
}

/**
 * What the model applies for a create of `c`: as createSchema, but with each field's older rule
 * where it has one (Field.applyInput). Not cached here: the model builds it once per collection.
 */
export function applySchema(c: CollectionName): z.ZodObject {
  const shape: Record<string, z.ZodType> = {};
  for (const [field, f] of Object.entries(collectionFields[c] as FieldTable)) {
    shape[field] = f.applyInput ?? f.input;
  }
  return z.strictObject(shape);
}

/**
 * A patch body: every field optional and without its default, so that a patch changes only what
 * it names (zod fills defaults even under `.optional()`).
 */
export function patchSchema(c: CollectionName): z.ZodObject {
  let schema = patchSchemas.get(c);
  if (!schema) {
    const fields: Record<string, z.ZodType> = {};
    for (const [field, input] of Object.entries(createSchema(c).shape as Record<string, z.ZodType>)) {
      const bare = input instanceof z.ZodDefault ? (input.unwrap() as z.ZodType) : input;
      fields[field] = bare.optional();
    }
    schema = named(`${entityNames[c]}Patch`, z.strictObject(fields));
    patchSchemas.set(c, schema);
  }
  return schema;
}

/** How a field of a kind looks in an answer. */
function outputSchema(f: Field): z.ZodType {
  let schema: z.ZodType;
  switch (f.kind) {
    case 'enum':
      schema = z.enum(f.options as [string, ...string[]]);
      break;
    case 'integer':
      schema = z.number().int();
      break;
    case 'boolean':
      schema = z.boolean();
      break;
    case 'json':
      schema = z.record(z.string(), jsonValue);
      break;
    case 'roles':
    case 'attributes':
    case 'refs':
      schema = z.array(z.string());
      break;
    default:
      schema = z.string();
  }
  return f.nullable ? schema.nullable() : schema;
}

/** The fields an answer about an entity of `c` carries, in output order (no write-only ones). */
export function entityFields(c: CollectionName): FieldTable {
  const own = Object.entries(collectionFields[c] as FieldTable).filter(([, f]) => f.kind !== 'password');
  // id first, then the entity's own fields, then the rest of the bookkeeping (tags stay last but one).
  const { id, ...rest } = bookkeepingFields;
  const ownTable = Object.fromEntries(own) as Record<string, Field>;
  const { tags: ownTags, ...withoutTags } = ownTable;
  return { id, ...withoutTags, ...rest, ...(ownTags ? { tags: ownTags } : {}) };
}

const entitySchemas = new Map<CollectionName, z.ZodObject>();

/** One entity of `c` as the API answers it. */
export function entitySchema(c: CollectionName): z.ZodObject {
  let schema = entitySchemas.get(c);
  if (!schema) {
    const shape: Record<string, z.ZodType> = {};
    for (const [field, f] of Object.entries(entityFields(c))) shape[field] = outputSchema(f);
    schema = named(entityNames[c], z.object(shape));
    entitySchemas.set(c, schema);
  }
  return schema;
}

/**
 * Any entity, for clients generic over collections: the bookkeeping fields and JSON values for
 * the rest (bookkeeping optional: a client may hold an entity it has only partly).
 */
export const anyEntity = z
  .object({
    id: z.string(),
    createdAt: z.string().optional(),
    updatedAt: z.string().optional(),
    revision: z.number().int().optional(),
  })
  .catchall(jsonValue);

export type Entity = z.infer<typeof anyEntity>;
