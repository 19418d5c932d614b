/**
 * The OpenAPI 3.1 document the API serves at `GET /api/v1/openapi.json` (without a token, so
 * that tools can fetch it). Routes declare their success answers with the contract's zod
 * schemas; this module adds what follows from the route's other declarations, so that no route
 * states it twice:
 * - the contract's named schemas become `components.schemas`, referenced by `$ref` (the
 *   registry in contract/openapi.ts), each once and under its plain name;
 * - the headers a route reads and sets, from its `requestHeaders` and `answerHeaders`;
 * - every route's problem+json answers: the statuses its schema lists under `problems`, 401 on
 *   routes that need a token, 400 on routes that take input, 413 on routes with a body, and a
 *   `default` for anything else, all pointing at the one `Problem` schema;
 * - which routes need the bearer token (`security`), from the route's `config.auth`, and which
 *   need an admin with full rights (a description and 403), from its `config.access` (access.ts).
 */
import type { FastifyDynamicSwaggerOptions } from '@fastify/swagger';
import type { FastifySchema } from 'fastify';
import { createJsonSchemaTransform, createJsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { apiSchemas } from '../../contract/index.js';
import { routeAccess, type Access } from './access.js';
import type { AuthMode } from './auth.js';
import { MAX_BODY_BYTES } from './deps.js';

/** What each problem status means on this API, as the document says it. */
const PROBLEM_ANSWERS = {
  400: 'The request is malformed or a field is invalid (`errors` names each field)',
  401: 'No bearer token, or one that is invalid, expired, or of an admin who no longer exists',
  403: 'Not allowed: a read-only admin asked for a change or a secret, or no policy lets this identity use the service or the router',
  404: 'No such entity, member or circuit',
  409: 'Conflicts with the model: a name or id is taken, or the entity is still in use',
  410: 'Gone for good: a join token already used, expired or revoked; ask for a new one',
  412: 'If-Match names another revision than the entity has; nothing was written',
  413: `The body is larger than ${MAX_BODY_BYTES / 1024 / 1024} MiB`,
  422: 'A reference names an entity that does not exist, or the Idempotency-Key was used for another request',
  429: 'Too many writes queued, or too many failed logins (Retry-After); nothing was proposed',
  503: 'No leader is known, or this node is still starting (Retry-After); nothing was proposed',
  504: 'The outcome is unknown (a write may still apply: a retry with the same Idempotency-Key is safe), or minIndex was not reached in time',
} as const;

export type ProblemStatus = keyof typeof PROBLEM_ANSWERS;

/** Descriptions of success answers whose schema has none. */
const SUCCESS_ANSWERS: Readonly<Record<string, string>> = { 200: 'OK', 201: 'Created' };

/** The statuses a read with read points (`minIndex`, `consistency`) may answer. */
export const READ_PROBLEMS = [503, 504] as const satisfies readonly ProblemStatus[];
/** The statuses a model write may answer besides its route's own. */
export const WRITE_PROBLEMS = [409, 422, 429, 503, 504] as const satisfies readonly ProblemStatus[];

/** Request headers a route reads besides its schema's (documented, checked by the route). */
const REQUEST_HEADERS = {
  'idempotency-key': {
    description:
      'Makes a retry safe: the same request again with the same key answers with the first one’s result; another request (method, path or body) with it is refused with 422 IDEMPOTENCY_KEY_REUSED (1 to 255 visible ASCII characters)',
    schema: { type: 'string', pattern: '^[\\x21-\\x7e]{1,255}$' },
  },
  'if-match': {
    description: 'Compare-and-set: the entity’s revision as its ETag ("3"); 412 when it has another',
    schema: { type: 'string' },
  },
} as const;

/** Answer headers a route sets on its success answer. */
const ANSWER_HEADERS = {
  'x-raft-index': {
    description:
      'The Raft index of the write, or the applied index the read saw; pass it as minIndex to read your writes on any node',
    schema: { type: 'integer', minimum: 0 },
  },
  etag: { description: 'The entity’s revision ("3"), for If-Match', schema: { type: 'string' } },
} as const;

export type RequestHeader = keyof typeof REQUEST_HEADERS;
export type AnswerHeader = keyof typeof ANSWER_HEADERS;

declare module 'fastify' {
  interface FastifySchema {
    /** The problem statuses this route answers besides those derived from it (see above). */
    problems?: readonly ProblemStatus[];
    /** Headers the route reads that its schema does not validate (documented only). */
    requestHeaders?: readonly RequestHeader[];
    /** Headers of its success answer. */
    answerHeaders?: readonly AnswerHeader[];
    summary?: string;
    tags?: readonly string[];
    operationId?: string;
  }
}

/** Who may call a route, as its operation's description says (read routes: any admin, unsaid). */
const ACCESS_DESCRIPTIONS: Readonly<Record<Access, string | undefined>> = {
  read: undefined,
  full: 'Needs an admin with full rights (role `admin`); a read-only admin gets 403 READ_ONLY.',
  'own-account':
    'Needs an admin with full rights, or a read-only admin changing only its own password (403 READ_ONLY otherwise).',
};

const PROBLEM_REF = { $ref: '#/components/schemas/Problem' };

function problemAnswer(description: string) {
  return { description, content: { 'application/problem+json': { schema: PROBLEM_REF } } };
}

/** The problem statuses a route answers: its own, and those its declarations imply. */
function problemStatuses(schema: FastifySchema, auth: AuthMode, access: Access): ProblemStatus[] {
  const statuses = new Set<ProblemStatus>(schema.problems ?? []);
  if (auth !== 'public') statuses.add(401);
  if (access !== 'read') statuses.add(403);
  if (schema.body || schema.querystring || schema.params) statuses.add(400);
  if (schema.body) statuses.add(413);
  return [...statuses].sort((a, b) => a - b);
}

function security(auth: AuthMode): Record<string, string[]>[] {
  if (auth === 'public') return [];
  if (auth === 'admin-or-node') return [{ bearer: [] }, { node: [] }];
  return [{ bearer: [] }];
}

/** A header table's rows for `names`, as JSON Schema properties (the generator makes parameters of them). */
function headerProperties(
  table: Readonly<Record<string, { readonly description: string; readonly schema: object }>>,
  names: readonly string[],
): Record<string, object> {
  const properties: Record<string, object> = {};
  for (const name of names) {
    const row = table[name];
    if (row) properties[name] = { ...row.schema, description: row.description };
  }
  return properties;
}

/** A success answer with its description and the headers the route sets on it. */
function successAnswer(
  status: string,
  answer: Record<string, unknown>,
  headers: readonly AnswerHeader[],
): Record<string, unknown> {
  const description = SUCCESS_ANSWERS[status];
  return {
    ...answer,
    // @fastify/swagger's key for a response's description ('Default Response' otherwise).
    ...(description && !answer.description ? { 'x-response-description': description } : {}),
    ...(headers.length > 0 ? { headers: headerProperties(ANSWER_HEADERS, headers) } : {}),
  };
}

type RouteTransform = NonNullable<FastifyDynamicSwaggerOptions['transform']>;
type DocumentTransform = NonNullable<FastifyDynamicSwaggerOptions['transformObject']>;

/** The per-route transform: the zod transform, then problems, headers and security. */
function routeTransform(): RouteTransform {
  const zodTransform = createJsonSchemaTransform({ skipList: [], schemaRegistry: apiSchemas });
  return (document) => {
    const { schema: transformed, url } = zodTransform(document);
    const declared = document.schema;
    if (!declared || 'hide' in transformed) return { schema: transformed, url };
    const config = document.route.config as { auth?: AuthMode; access?: Access } | undefined;
    const auth: AuthMode = config?.auth ?? 'admin';
    const access = auth === 'public' ? 'read' : routeAccess(document.route.method, config);
    const {
      problems: _p,
      requestHeaders,
      answerHeaders,
      ...schema
    } = transformed as FastifySchema & {
      response?: Record<string, Record<string, unknown>>;
    };
    const response: Record<string, unknown> = {};
    for (const [status, answer] of Object.entries(schema.response ?? {})) {
      response[status] = status.startsWith('2') ? successAnswer(status, answer, answerHeaders ?? []) : answer;
    }
    for (const status of problemStatuses(declared, auth, access)) {
      response[String(status)] = problemAnswer(PROBLEM_ANSWERS[status]);
    }
    response.default = problemAnswer('Any other error');
    const headers = requestHeaders?.length
      ? { headers: { type: 'object', properties: headerProperties(REQUEST_HEADERS, requestHeaders) } }
      : {};
    const who = ACCESS_DESCRIPTIONS[access];
    return {
      schema: {
        ...schema,
        ...headers,
        ...(who ? { description: who } : {}),
        response,
        security: security(auth),
      },
      url,
    };
  };
}

/**
 * The generator emits every named schema twice, as `X` (as answers carry it) and `XInput` (as
 * requests may); keep those the document references, under the plain name where only one is.
 */
function documentTransform(): DocumentTransform {
  const zodTransform = createJsonSchemaTransformObject({ schemaRegistry: apiSchemas });
  return (document) => {
    const full = zodTransform(document) as { components?: { schemas?: Record<string, unknown> } };
    const schemas = full.components?.schemas ?? {};
    const { components: _c, ...rest } = full;
    const used = referencedSchemas(rest, schemas);
    const renames = new Map<string, string>();
    for (const name of used) {
      const plain = name.replace(/Input$/, '');
      if (plain !== name && !used.has(plain)) renames.set(name, plain);
    }
    const kept: Record<string, unknown> = {};
    for (const name of [...used].sort()) {
      const plain = renames.get(name) ?? name;
      kept[plain] = DOCUMENTED_AS[plain] ?? schemas[name];
    }
    return renameRefs(
      { ...full, components: { ...full.components, schemas: kept } },
      renames,
    ) as ReturnType<DocumentTransform>;
  };
}

const SCHEMA_REF = '#/components/schemas/';

/**
 * Schemas the document states more simply than zod generates them. JsonValue is a union that
 * refers to itself; generated TypeScript cannot express that through the indexed access types
 * generators emit ("referenced directly or indirectly in its own type annotation"), and any value
 * in a JSON document is a JSON value, so the document says just that.
 */
const DOCUMENTED_AS: Readonly<Record<string, object>> = {
  JsonValue: { description: 'Any JSON value' },
};

/** The component schemas `root` references, directly or through other components. */
function referencedSchemas(root: unknown, schemas: Record<string, unknown>): Set<string> {
  const used = new Set<string>();
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(visit);
    else if (value && typeof value === 'object') {
      for (const [key, child] of Object.entries(value)) {
        if (key === '$ref' && typeof child === 'string' && child.startsWith(SCHEMA_REF)) {
          const name = child.slice(SCHEMA_REF.length);
          if (!used.has(name)) {
            used.add(name);
            visit(schemas[name]);
          }
        } else visit(child);
      }
    }
  };
  visit(root);
  return used;
}

function renameRefs(value: unknown, renames: ReadonlyMap<string, string>): unknown {
  if (Array.isArray(value)) return value.map((v) => renameRefs(v, renames));
  if (!value || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, child]) => {
      if (key === '$ref' && typeof child === 'string' && child.startsWith(SCHEMA_REF)) {
        const name = child.slice(SCHEMA_REF.length);
        return [key, SCHEMA_REF + (renames.get(name) ?? name)];
      }
      return [key, renameRefs(child, renames)];
    }),
  );
}

/** The options of @fastify/swagger for the API's document. */
export function documentOptions(): FastifyDynamicSwaggerOptions {
  return {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'meshdesk controller API',
        version: '1.0.0',
        description:
          'The management API of a meshdesk controller node. Errors are application/problem+json; writes answer X-Raft-Index and accept Idempotency-Key.',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          node: {
            type: 'apiKey',
            in: 'header',
            name: 'Authorization',
            description:
              'Node <ms>.<base64url ECDSA-SHA256 by the node key over ms + "\\n" + METHOD + " " + path + "\\n" + body>, with the node certificate (base64 PEM) in X-Meshdesk-Node-Certificate (a controller adding itself after its join)',
          },
        },
      },
      security: [{ bearer: [] }],
    },
    transform: routeTransform(),
    transformObject: documentTransform(),
  };
}

/** The distinct statuses of an error table's rows (a route that may answer any of them). */
export function statusesOf(table: Readonly<Record<string, { readonly status: number }>>): ProblemStatus[] {
  const statuses = new Set(Object.values(table).map((row) => row.status));
  return (Object.keys(PROBLEM_ANSWERS).map(Number) as ProblemStatus[]).filter((s) => statuses.has(s));
}
