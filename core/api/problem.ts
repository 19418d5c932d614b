/**
 * Errors as `application/problem+json` (RFC 9457): one table from every error the API can meet
 * (model refusals, replica outcomes, filter and query mistakes, fastify's own request errors) to
 * a status, so that no route decides statuses on its own. Pure: unit-tested without a server.
 */
import type { z } from 'zod';
import type { problem as problemSchema } from '../../contract/index.js';
import { asClusterError, type ClusterError } from '../cluster/errors.js';
import type { FieldError } from '../model/errors.js';
import { ModelError, type ModelErrorCode } from '../model/errors.js';
import { FilterError } from '../model/filter/index.js';
import { QueryError } from '../model/queries.js';
import { ReplicaError } from '../replication/errors.js';
import { RuntimeError, type RuntimeErrorCode } from '../runtime/errors.js';
import { TransportError, type TransportErrorCode } from '../transport/errors.js';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';

/** A problem+json body: the contract's shape. */
export type Problem = z.infer<typeof problemSchema>;

export interface ProblemResponse {
  readonly problem: Problem;
  readonly headers: Readonly<Record<string, string>>;
  /** True when the error was not one we expected: the caller logs it. */
  readonly unexpected: boolean;
}

const TITLES: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  428: 'Precondition Required',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** An error a route raises on purpose, with its status and code already chosen. */
export class ApiProblem extends Error {
  override readonly name = 'ApiProblem';
  constructor(
    readonly status: number,
    readonly code: string,
    detail: string,
    readonly errors: readonly FieldError[] = [],
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(detail);
  }
}

/**
 * Model refusals. UNKNOWN_REFERENCE is 422: the request is well-formed, but it names an entity
 * that does not exist (409 would suggest retrying after a conflict resolves).
 */
const MODEL_STATUS: Readonly<Record<ModelErrorCode, number>> = {
  INVALID: 400,
  NOT_FOUND: 404,
  NAME_TAKEN: 409,
  ID_TAKEN: 409,
  IN_USE: 409,
  UNKNOWN_REFERENCE: 422,
  REVISION_MISMATCH: 412,
  // A join token that will never work (not ours, spent, expired, revoked): ask for a new one.
  INVITATION_UNKNOWN: 403,
  INVITATION_USED: 410,
  INVITATION_EXPIRED: 410,
  INVITATION_REVOKED: 410,
  ROUTER_DISABLED: 409,
  CONTROLLER_RETIRED: 403,
  CERTIFICATE_REVOKED: 403,
  CA_CHANGED: 409,
  ROTATION_UNFINISHED: 409,
  IDEMPOTENCY_KEY_REUSED: 422,
  INTERNAL: 500,
};

/** Seconds a client should wait before retrying a write that was not proposed. */
const RETRY_AFTER_SECONDS = '1';

function titleOf(status: number): string {
  return TITLES[status] ?? (status >= 500 ? 'Server Error' : 'Client Error');
}

/** One row of the table: what a stable error code answers with. */
export interface ProblemRow {
  readonly status: number;
  readonly title: string;
}

const row = (status: number): ProblemRow => ({ status, title: titleOf(status) });

/**
 * Runtime refusals. A 503 means nothing was made (no path, router or controller now: retry
 * later); ROUTER_TIMEOUT is 504 because the router may still have made the circuit.
 */
export const RUNTIME_PROBLEMS: Readonly<Record<RuntimeErrorCode, ProblemRow>> = {
  UNKNOWN_IDENTITY: row(422),
  UNKNOWN_SERVICE: row(422),
  UNKNOWN_ROUTER: row(422),
  UNKNOWN_CIRCUIT: row(404),
  POLICY_DENIED: row(403),
  ROUTER_NOT_ALLOWED: row(403),
  ROUTER_NOT_CONNECTED: row(503),
  ROUTER_TIMEOUT: row(504),
  NO_TERMINATOR: row(409),
  NO_PATH: row(503),
  ROUTE_FAILED: row(503),
  NO_CONTROLLER: row(503),
  NO_RUNTIME: row(503),
};

/**
 * Cluster request failures, by whether the request may have run: never sent (UNREACHABLE,
 * CLOSED) or not understood there (NO_HANDLER) is 503; no or a broken answer is 504.
 */
export const TRANSPORT_PROBLEMS: Readonly<Record<TransportErrorCode, ProblemRow>> = {
  UNREACHABLE: row(503),
  CLOSED: row(503),
  NO_HANDLER: row(503),
  TIMEOUT: row(504),
  DISCONNECTED: row(504),
  BAD_MESSAGE: row(504),
};

export function problem(
  status: number,
  code: string,
  detail: string,
  errors: readonly FieldError[] = [],
): Problem {
  return {
    type: `urn:meshdesk:problem:${code.toLowerCase().replaceAll('_', '-')}`,
    title: titleOf(status),
    status,
    detail,
    code,
    ...(errors.length > 0 ? { errors } : {}),
  };
}

function response(
  status: number,
  code: string,
  detail: string,
  errors: readonly FieldError[] = [],
  headers: Record<string, string> = {},
  unexpected = false,
): ProblemResponse {
  return { problem: problem(status, code, detail, errors), headers, unexpected };
}

function fromReplica(err: ReplicaError): ProblemResponse {
  if (err.code === 'TIMEOUT' || err.outcome === 'unknown') {
    return response(
      504,
      err.code,
      `${err.message}. The write may still apply; retrying it with the same Idempotency-Key is safe.`,
    );
  }
  if (err.outcome === 'not-applied') {
    return response(503, err.code, `${err.message}; the write did not apply and may be retried`, [], {
      'retry-after': RETRY_AFTER_SECONDS,
    });
  }
  // not-proposed: nothing reached the log, so a retry is always safe.
  if (err.code === 'QUEUE_FULL') {
    return response(429, err.code, `${err.message}; the write was not proposed`, [], {
      'retry-after': RETRY_AFTER_SECONDS,
    });
  }
  if (err.code === 'INVALID_REQUEST') return response(500, err.code, err.message, [], {}, true);
  return response(503, err.code, `${err.message}; nothing was proposed, retry later`, [], {
    'retry-after': RETRY_AFTER_SECONDS,
  });
}

/** The shape fastify gives its own request errors (body parsing, validation, limits). */
interface FastifyLikeError {
  readonly code?: unknown;
  readonly statusCode?: unknown;
  readonly message?: unknown;
  readonly validation?: unknown;
  readonly validationContext?: unknown;
}

interface ValidationIssue {
  readonly instancePath?: string;
  readonly message?: string;
  readonly keyword?: string;
  readonly params?: { readonly keys?: readonly string[] };
}

/** Field errors from a schema validation failure (zod issues as fastify-type-provider-zod gives them). */
export function validationErrors(issues: readonly ValidationIssue[]): FieldError[] {
  const errors: FieldError[] = [];
  for (const issue of issues) {
    const path = (issue.instancePath ?? '').split('/').filter(Boolean).join('.');
    if (issue.keyword === 'unrecognized_keys' && issue.params?.keys) {
      for (const key of issue.params.keys)
        errors.push({ field: path ? `${path}.${key}` : key, message: 'unknown field' });
    } else {
      errors.push({ field: path, message: issue.message ?? 'invalid' });
    }
  }
  return errors;
}

function fromFastify(err: FastifyLikeError): ProblemResponse | undefined {
  if (Array.isArray(err.validation)) {
    const where = typeof err.validationContext === 'string' ? err.validationContext : 'request';
    const place = where === 'querystring' ? 'query parameters' : where;
    return response(
      400,
      'INVALID',
      `invalid ${place}`,
      validationErrors(err.validation as ValidationIssue[]),
    );
  }
  const status = typeof err.statusCode === 'number' ? err.statusCode : undefined;
  if (status === undefined || status < 400 || status >= 500) return undefined;
  const code = err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? 'BODY_TOO_LARGE' : fastifyCode(err, status);
  const message = typeof err.message === 'string' ? err.message : 'bad request';
  return response(status, code, message);
}

function fastifyCode(err: FastifyLikeError, status: number): string {
  if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return 'UNSUPPORTED_MEDIA_TYPE';
  if (status === 400) return 'MALFORMED_REQUEST';
  if (status === 429) return 'RATE_LIMITED';
  if (status === 404) return 'NOT_FOUND';
  return `HTTP_${status}`;
}

const CLUSTER_STATUS: Readonly<Record<ClusterError['code'], number>> = {
  INVALID_MEMBER: 400,
  UNKNOWN_MEMBER: 404,
  MEMBERSHIP_CONFLICT: 409,
  MEMBER_RETIRED: 403,
  NO_ROOT_KEY: 409,
  MEMBER_UNREACHABLE: 409,
  CATCH_UP_TIMEOUT: 504,
  BAD_CERTIFICATE_REQUEST: 400,
  NO_CLUSTER_CA: 503,
  ROTATION_UNFINISHED: 409,
  ROOT_TOO_OLD: 409,
};

/** The problem for any error a route or hook throws. */
export function toProblem(err: unknown): ProblemResponse {
  if (err instanceof ApiProblem) {
    return response(err.status, err.code, err.message, err.errors, { ...err.headers });
  }
  if (err instanceof ModelError) {
    const status = MODEL_STATUS[err.code];
    return response(status, err.code, err.message, err.errors, {}, status >= 500);
  }
  if (err instanceof ReplicaError) return fromReplica(err);
  if (err instanceof RuntimeError) return response(RUNTIME_PROBLEMS[err.code].status, err.code, err.message);
  if (err instanceof TransportError) {
    return response(TRANSPORT_PROBLEMS[err.code].status, err.code, err.message);
  }
  if (err instanceof FilterError) {
    return response(400, err.code, `invalid filter: ${err.message}`, [
      { field: 'filter', message: err.message },
    ]);
  }
  if (err instanceof QueryError) {
    return response(400, err.code, err.message, [{ field: err.parameter, message: err.message }]);
  }
  const cluster = asClusterError(err);
  if (cluster) {
    // A node without the cluster CA is starting: the request will work once it has applied it.
    const headers: Record<string, string> =
      cluster.code === 'NO_CLUSTER_CA' ? { 'retry-after': RETRY_AFTER_SECONDS } : {};
    return response(CLUSTER_STATUS[cluster.code], cluster.code, cluster.message, [], headers);
  }
  if (typeof err === 'object' && err !== null) {
    const known = fromFastify(err as FastifyLikeError);
    if (known) return known;
  }
  return response(500, 'INTERNAL', 'an unexpected error occurred; it has been logged', [], {}, true);
}

/** The model's refusal result (core/model/errors.ts ModelErrorResult) as an error to throw. */
export function modelRefusal(result: {
  error: { code: ModelErrorCode; message: string; errors: readonly FieldError[] };
}): ModelError {
  return new ModelError(result.error.code, result.error.message, result.error.errors);
}
