/** The one table from errors to HTTP statuses. */
import { describe, expect, it } from 'vitest';
import { ClusterError } from '../../../core/cluster/errors.js';
import { ModelError } from '../../../core/model/errors.js';
import { FilterError } from '../../../core/model/filter/index.js';
import { QueryError } from '../../../core/model/queries.js';
import {
  ApiProblem,
  RUNTIME_PROBLEMS,
  TRANSPORT_PROBLEMS,
  toProblem,
  validationErrors,
} from '../../../core/api/problem.js';
import { ReplicaError } from '../../../core/replication/errors.js';
import { RuntimeError, type RuntimeErrorCode } from '../../../core/runtime/errors.js';
import { TransportError, type TransportErrorCode } from '../../../core/transport/errors.js';

describe('toProblem', () => {
  it.each([
    ['INVALID', 400],
    ['NOT_FOUND', 404],
    ['NAME_TAKEN', 409],
    ['ID_TAKEN', 409],
    ['IN_USE', 409],
    ['UNKNOWN_REFERENCE', 422],
    ['REVISION_MISMATCH', 412],
  ] as const)('maps the model refusal %s to %i', (code, status) => {
    const { problem, unexpected } = toProblem(
      new ModelError(code, 'why', [{ field: 'name', message: 'bad' }]),
    );
    expect(problem).toMatchObject({
      status,
      code,
      detail: 'why',
      errors: [{ field: 'name', message: 'bad' }],
    });
    expect(problem.type).toBe(`urn:meshdesk:problem:${code.toLowerCase().replaceAll('_', '-')}`);
    expect(unexpected).toBe(false);
  });

  it('answers 503 with Retry-After when nothing was proposed, 429 when the queue is full', () => {
    const noLeader = toProblem(new ReplicaError('NO_LEADER', 'no leader', 'not-proposed'));
    expect(noLeader.problem.status).toBe(503);
    expect(noLeader.headers['retry-after']).toBe('1');
    const full = toProblem(new ReplicaError('QUEUE_FULL', 'full', 'not-proposed'));
    expect(full.problem.status).toBe(429);
    expect(full.headers['retry-after']).toBe('1');
    expect(toProblem(new ReplicaError('PROPOSAL_DROPPED', 'replaced', 'not-applied')).problem.status).toBe(
      503,
    );
  });

  it('answers 504 when a proposed write’s outcome is unknown, saying a keyed retry is safe', () => {
    for (const err of [
      new ReplicaError('TIMEOUT', 'late', 'unknown'),
      new ReplicaError('OUTCOME_UNKNOWN', 'lost', 'unknown'),
      new ReplicaError('STOPPED', 'stopping', 'unknown'),
    ]) {
      const { problem } = toProblem(err);
      expect(problem.status).toBe(504);
      expect(problem.detail).toMatch(/may still apply.*Idempotency-Key/);
    }
  });

  it('names the parameter of filter and query errors', () => {
    expect(toProblem(new FilterError('unexpected end', 7)).problem).toMatchObject({
      status: 400,
      code: 'INVALID_FILTER',
      errors: [{ field: 'filter' }],
    });
    expect(toProblem(new QueryError('INVALID_SORT', 'no', 'sort', 'x')).problem).toMatchObject({
      status: 400,
      errors: [{ field: 'sort' }],
    });
  });

  it('maps cluster errors, also when they crossed the transport as plain errors', () => {
    expect(toProblem(new ClusterError('UNKNOWN_MEMBER', 'who')).problem.status).toBe(404);
    expect(toProblem(new ClusterError('MEMBERSHIP_CONFLICT', 'busy')).problem.status).toBe(409);
    expect(toProblem(Object.assign(new Error('bad'), { code: 'INVALID_MEMBER' })).problem.status).toBe(400);
    expect(toProblem(new ClusterError('BAD_CERTIFICATE_REQUEST', 'no')).problem.status).toBe(400);
    // A node that has not applied the cluster CA yet is starting: retry.
    const starting = toProblem(new ClusterError('NO_CLUSTER_CA', 'not yet'));
    expect([starting.problem.status, starting.headers]).toEqual([503, { 'retry-after': '1' }]);
    expect(toProblem(new ClusterError('UNKNOWN_MEMBER', 'who')).headers).toEqual({});
  });

  // Every code the runtime and the transport can surface, with its row of the table.
  const runtime = (code: RuntimeErrorCode) => new RuntimeError(code, 'why');
  const transport = (code: TransportErrorCode) => new TransportError(code, 'why');
  const rows = [
    { err: runtime('UNKNOWN_IDENTITY'), status: 422, title: 'Unprocessable Content' },
    { err: runtime('UNKNOWN_SERVICE'), status: 422, title: 'Unprocessable Content' },
    { err: runtime('UNKNOWN_ROUTER'), status: 422, title: 'Unprocessable Content' },
    { err: runtime('UNKNOWN_CIRCUIT'), status: 404, title: 'Not Found' },
    { err: runtime('POLICY_DENIED'), status: 403, title: 'Forbidden' },
    { err: runtime('ROUTER_NOT_ALLOWED'), status: 403, title: 'Forbidden' },
    { err: runtime('NO_TERMINATOR'), status: 409, title: 'Conflict' },
    { err: runtime('ROUTER_NOT_CONNECTED'), status: 503, title: 'Service Unavailable' },
    { err: runtime('NO_PATH'), status: 503, title: 'Service Unavailable' },
    { err: runtime('ROUTE_FAILED'), status: 503, title: 'Service Unavailable' },
    { err: runtime('NO_CONTROLLER'), status: 503, title: 'Service Unavailable' },
    { err: runtime('NO_RUNTIME'), status: 503, title: 'Service Unavailable' },
    { err: runtime('ROUTER_TIMEOUT'), status: 504, title: 'Gateway Timeout' },
    { err: transport('UNREACHABLE'), status: 503, title: 'Service Unavailable' },
    { err: transport('CLOSED'), status: 503, title: 'Service Unavailable' },
    { err: transport('NO_HANDLER'), status: 503, title: 'Service Unavailable' },
    { err: transport('TIMEOUT'), status: 504, title: 'Gateway Timeout' },
    { err: transport('DISCONNECTED'), status: 504, title: 'Gateway Timeout' },
    { err: transport('BAD_MESSAGE'), status: 504, title: 'Gateway Timeout' },
  ];
  it.each(rows)('maps $err.name $err.code to $status $title', ({ err, status, title }) => {
    const { problem, headers, unexpected } = toProblem(err);
    expect(problem).toEqual({
      type: `urn:meshdesk:problem:${err.code.toLowerCase().replaceAll('_', '-')}`,
      title,
      status,
      detail: 'why',
      code: err.code,
    });
    expect(headers).toEqual({});
    expect(unexpected).toBe(false);
  });

  it('checks every row of the runtime and transport tables', () => {
    expect(rows.map((r) => r.err.code).sort()).toEqual(
      [...Object.keys(RUNTIME_PROBLEMS), ...Object.keys(TRANSPORT_PROBLEMS)].sort(),
    );
    for (const { err, status, title } of rows) {
      const table: Readonly<Record<string, unknown>> =
        err instanceof RuntimeError ? RUNTIME_PROBLEMS : TRANSPORT_PROBLEMS;
      expect(table[err.code]).toEqual({ status, title });
    }
  });

  it('keeps fastify’s request errors in the 4xx range and everything else a logged 500', () => {
    const tooLarge = Object.assign(new Error('Request body is too large'), {
      code: 'FST_ERR_CTP_BODY_TOO_LARGE',
      statusCode: 413,
    });
    expect(toProblem(tooLarge).problem).toMatchObject({ status: 413, code: 'BODY_TOO_LARGE' });
    expect(
      toProblem(Object.assign(new SyntaxError('Unexpected end'), { statusCode: 400 })).problem.status,
    ).toBe(400);
    const surprise = toProblem(new TypeError('x is undefined'));
    expect(surprise.problem).toMatchObject({ status: 500, code: 'INTERNAL' });
    expect(surprise.problem.detail).not.toContain('x is undefined');
    expect(surprise.unexpected).toBe(true);
    expect(toProblem('a string').problem.status).toBe(500);
    expect(toProblem(null).problem.status).toBe(500);
    expect(toProblem(Object.assign(new Error('boom'), { statusCode: 502 })).problem.status).toBe(500);
  });

  it('passes ApiProblem through with its headers', () => {
    const { problem, headers } = toProblem(
      new ApiProblem(401, 'TOKEN_EXPIRED', 'old', [], { 'www-authenticate': 'Bearer' }),
    );
    expect(problem).toMatchObject({ status: 401, title: 'Unauthorized', code: 'TOKEN_EXPIRED' });
    expect(headers['www-authenticate']).toBe('Bearer');
  });
});

describe('validationErrors', () => {
  it('turns zod issues into field errors, one per unknown key', () => {
    expect(
      validationErrors([
        { instancePath: '/name', message: 'Too small', keyword: 'too_small' },
        {
          instancePath: '/',
          message: 'Unrecognized keys',
          keyword: 'unrecognized_keys',
          params: { keys: ['a', 'b'] },
        },
        {
          instancePath: '/operations/0',
          message: 'x',
          keyword: 'unrecognized_keys',
          params: { keys: ['c'] },
        },
      ]),
    ).toEqual([
      { field: 'name', message: 'Too small' },
      { field: 'a', message: 'unknown field' },
      { field: 'b', message: 'unknown field' },
      { field: 'operations.0.c', message: 'unknown field' },
    ]);
  });
});
