/**
 * Errors from the API as one typed value, for every client (the UI, the CLI, a joining node).
 * Every failed request, whatever went wrong, becomes an `ApiError` whose `kind` says what the
 * caller should do about it. No DOM, no Node: the UI bundles it.
 */
import type { z } from 'zod';
import type { fieldError, problem } from '../contract/index.js';

export type FieldProblem = z.infer<typeof fieldError>;

/**
 * A problem as a client holds it: the API's problem+json (RFC 9457), or one the client made for a
 * network failure or an answer that was not one; field errors normalised to a list.
 */
export type Problem = Partial<Omit<z.infer<typeof problem>, 'title' | 'status' | 'errors'>> &
  Pick<z.infer<typeof problem>, 'title' | 'status'> & { readonly errors: readonly FieldProblem[] };

export type ApiErrorKind =
  /** The node could not be reached, or the connection broke before an answer. */
  | 'network'
  /** The node answered 2xx with something the contract does not allow. */
  | 'answer'
  /** The token is missing, expired or refused: back to the login page. */
  | 'unauthorized'
  /** The node answered with an error status. */
  | 'http';

export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly kind: ApiErrorKind,
    /** The HTTP status; 0 for network errors. */
    readonly status: number,
    readonly problem: Problem,
    /** Seconds from `Retry-After` (503 no leader, 429 queue full), when given. */
    readonly retryAfter: number | null = null,
  ) {
    super(problem.detail ? `${problem.title}: ${problem.detail}` : problem.title);
  }

  get fieldErrors(): readonly FieldProblem[] {
    return this.problem.errors;
  }

  /** Whether a write that failed this way may still have applied (504: the outcome is unknown). */
  get outcomeUnknown(): boolean {
    return this.status === 504;
  }
}

const statusTitles: Readonly<Record<number, string>> = {
  400: 'Bad request',
  401: 'Not signed in',
  403: 'Forbidden',
  404: 'Not found',
  409: 'Conflict',
  412: 'Changed by someone else',
  429: 'The node is busy',
  500: 'Server error',
  503: 'No leader',
  504: 'Outcome unknown',
};

export function titleForStatus(status: number): string {
  return statusTitles[status] ?? `HTTP ${status}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Field errors as a list. The contract says "errors per field"; accept both shapes a server may
 * use for that: `[{field, message}]` and `{field: message | message[]}`.
 */
export function normaliseFieldErrors(errors: unknown): FieldProblem[] {
  if (Array.isArray(errors)) {
    return errors.flatMap((item): FieldProblem[] => {
      if (!isRecord(item)) return [];
      const field =
        typeof item.field === 'string' ? item.field : typeof item.path === 'string' ? item.path : '';
      const message = typeof item.message === 'string' ? item.message : '';
      return message ? [{ field, message }] : [];
    });
  }
  if (isRecord(errors)) {
    return Object.entries(errors).flatMap(([field, value]): FieldProblem[] => {
      if (typeof value === 'string') return [{ field, message: value }];
      if (Array.isArray(value)) {
        return value.filter((m): m is string => typeof m === 'string').map((message) => ({ field, message }));
      }
      return [];
    });
  }
  return [];
}

/** A problem from any parsed body: problem+json, a plain `{message}` JSON error, or nothing useful. */
export function toProblem(status: number, body: unknown, text = ''): Problem {
  if (isRecord(body)) {
    const title =
      typeof body.title === 'string' && body.title
        ? body.title
        : typeof body.error === 'string' && body.error
          ? body.error
          : titleForStatus(status);
    const detail =
      typeof body.detail === 'string'
        ? body.detail
        : typeof body.message === 'string'
          ? body.message
          : undefined;
    return {
      ...(typeof body.type === 'string' ? { type: body.type } : {}),
      title,
      status: typeof body.status === 'number' ? body.status : status,
      ...(detail !== undefined ? { detail } : {}),
      ...(typeof body.code === 'string' && body.code ? { code: body.code } : {}),
      errors: normaliseFieldErrors(body.errors),
    };
  }
  const trimmed = text.trim();
  return {
    title: titleForStatus(status),
    status,
    ...(trimmed ? { detail: trimmed.slice(0, 500) } : {}),
    errors: [],
  };
}

/** Whether the node refused because it is still starting (503 STARTING): wait and ask again. */
export function isStarting(error: unknown): error is ApiError {
  return error instanceof ApiError && error.status === 503 && error.problem.code === 'STARTING';
}

/** Parses `Retry-After` in its seconds form; the HTTP-date form is not used by this API. */
export function parseRetryAfter(value: string | null): number | null {
  if (value === null || !/^\d+$/.test(value.trim())) return null;
  return Number(value.trim());
}

/**
 * An unreachable node. fetch's own message says only "fetch failed": the cause's code
 * (ECONNREFUSED, a TLS verification error) is what tells a person why.
 */
export function networkError(cause: unknown): ApiError {
  const inner = (cause as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
  const code = typeof inner?.code === 'string' ? inner.code : undefined;
  const detail = code ?? (cause instanceof Error ? cause.message : String(cause));
  return new ApiError('network', 0, {
    title: 'The node is unreachable',
    status: 0,
    detail,
    ...(code ? { code } : {}),
    errors: [],
  });
}

/** Whether a network failure was the server's certificate failing verification (not a dead node). */
export function isCertificateRefusal(error: unknown): boolean {
  return (
    error instanceof ApiError &&
    error.kind === 'network' &&
    /CERT|SIGNATURE|SELF_SIGNED|ALTNAME|ISSUER/.test(error.problem.code ?? '')
  );
}
