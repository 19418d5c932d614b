/**
 * The UI's AdminApi client against a real HTTP server on 127.0.0.1: the requests it builds (path,
 * query, headers, body) as the server receives them, and the errors it makes of the answers.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AdminApi, buildRequest } from '../../../renderer/src/api/admin-api.js';
import { ApiError, normaliseFieldErrors, toProblem } from '../../../renderer/src/api/problem.js';
import { entityList, health, loginAnswer, policyCheck, writtenEntity } from '../../../contract/index.js';
import { answer as contractAnswer, entityFixture } from '../../support/contract-fixtures.js';

interface Received {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

interface Answer {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body?: string;
}

let server: Server;
let baseUrl: string;
let received: Received[] = [];
/** What the server answers to the next request. */
let answer: Answer = { status: 200, body: '{}' };

const json = (status: number, body: unknown, headers: Record<string, string> = {}): Answer => ({
  status,
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});

const problem = (status: number, body: unknown, headers: Record<string, string> = {}): Answer => ({
  status,
  headers: { 'content-type': 'application/problem+json; charset=utf-8', ...headers },
  body: JSON.stringify(body),
});

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      res.writeHead(answer.status, answer.headers ?? {});
      res.end(answer.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
});

beforeEach(() => {
  received = [];
  answer = { status: 200, body: '{}' };
});

function client(token: string | null = 'T0KEN', onUnauthorized?: () => void): AdminApi {
  return new AdminApi({
    baseUrl: `${baseUrl}/`,
    getToken: () => token,
    ...(onUnauthorized ? { onUnauthorized } : {}),
  });
}

function last(): Received {
  const request = received.at(-1);
  if (!request) throw new Error('the server received nothing');
  return request;
}

describe('AdminApi requests', () => {
  it('lists with limit, offset, filter and sort as query parameters, and the bearer token', async () => {
    const laptop = entityFixture('identities', { id: 'i1', name: 'laptop' });
    const meta = { total: 1, limit: 25, offset: 50 };
    answer = json(200, contractAnswer(entityList('identities'), { data: [laptop], meta }));
    const page = await client().list('identities', {
      limit: 25,
      offset: 50,
      filter: ' name contains "a&b" ',
      sort: '-name',
    });
    expect(page.meta).toEqual({ total: 1, limit: 25, offset: 50 });
    expect(page.data[0]?.name).toBe('laptop');
    const request = last();
    expect(request.method).toBe('GET');
    const url = new URL(request.url, baseUrl);
    expect(url.pathname).toBe('/api/v1/identities');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      limit: '25',
      offset: '50',
      filter: 'name contains "a&b"',
      sort: '-name',
    });
    expect(request.headers.authorization).toBe('Bearer T0KEN');
  });

  it('leaves out empty list parameters', async () => {
    answer = json(
      200,
      contractAnswer(entityList('service-policies'), { data: [], meta: { total: 0, limit: 100, offset: 0 } }),
    );
    await client().list('service-policies', { filter: '   ' });
    expect(last().url).toBe('/api/v1/service-policies');
  });

  it('creates with a JSON body and an Idempotency-Key, and reads X-Raft-Index', async () => {
    const web = contractAnswer(
      writtenEntity('services'),
      entityFixture('services', { id: 'new-id', name: 'web' }),
    );
    answer = json(201, web, { 'x-raft-index': '42' });
    const result = await client().create('services', { name: 'web' }, { idempotencyKey: 'k-1' });
    expect(result).toEqual({ body: web, raftIndex: 42 });
    expect(result.body).toMatchObject({ id: 'new-id', name: 'web' });
    const request = last();
    expect(request.method).toBe('POST');
    expect(request.url).toBe('/api/v1/services');
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers['idempotency-key']).toBe('k-1');
    expect(JSON.parse(request.body)).toEqual({ name: 'web' });
  });

  it('patches with If-Match carrying the revision, and encodes the id', async () => {
    const router = entityFixture('routers', { id: 'a/b', name: 'r', cost: 3, revision: 4 });
    answer = json(200, contractAnswer(writtenEntity('routers'), router), { 'x-raft-index': '7' });
    await client().patch('routers', 'a/b', { cost: 3 }, { ifRevision: 3 });
    const request = last();
    expect(request.method).toBe('PATCH');
    expect(request.url).toBe('/api/v1/routers/a%2Fb');
    expect(request.headers['if-match']).toBe('"3"');
    expect(JSON.parse(request.body)).toEqual({ cost: 3 });
  });

  it('deletes and accepts an empty 204', async () => {
    answer = { status: 204, headers: { 'x-raft-index': '9' } };
    const result = await client().remove('configs', 'c1');
    expect(result.raftIndex).toBe(9);
    expect(last().method).toBe('DELETE');
    expect(last().body).toBe('');
  });

  it('logs in without a token and asks the policy check with its three parameters', async () => {
    answer = json(
      200,
      contractAnswer(loginAnswer, { token: 'jwt', expiresAt: '2030-01-01T00:00:00.000Z', role: 'readonly' }),
    );
    await expect(client('stale').login('admin', 'pw')).resolves.toEqual({
      token: 'jwt',
      expiresAt: '2030-01-01T00:00:00.000Z',
      role: 'readonly',
    });
    expect(last().headers.authorization).toBeUndefined();
    expect(JSON.parse(last().body)).toEqual({ username: 'admin', password: 'pw' });

    answer = json(
      200,
      contractAnswer(policyCheck, { allowed: false, policies: [], missing: ['no Dial policy selects both'] }),
    );
    const check = await client().policyCheck('id 1', 'svc', 'Dial');
    expect(check.allowed).toBe(false);
    const url = new URL(last().url, baseUrl);
    expect(url.pathname).toBe('/api/v1/policy-check');
    expect(url.searchParams.get('identity')).toBe('id 1');
    expect(url.searchParams.get('type')).toBe('Dial');
  });

  it('sends the cluster operations to their routes', async () => {
    answer = json(200, { leaderId: 'n2' });
    await client().transferLeadership('n2');
    expect([last().method, last().url, JSON.parse(last().body)]).toEqual([
      'POST',
      '/api/v1/cluster/transfer-leadership',
      { to: 'n2' },
    ]);
    await client().removeMember('n3');
    expect([last().method, last().url]).toEqual(['DELETE', '/api/v1/cluster/members/n3']);
    answer = json(201, { id: 'n4', index: 12 }, { 'x-raft-index': '12' });
    await client().addMember({ address: '10.0.0.4:8441', id: 'n4', voter: true });
    expect(JSON.parse(last().body)).toEqual({ address: '10.0.0.4:8441', id: 'n4', voter: true });
  });

  it('mints, lists and revokes join tokens, mints router enrollment tokens, and reads the cluster CA without a token', async () => {
    answer = json(201, { token: 'mdjoin1.x.y', invitation: {} });
    await client().invite(90);
    expect([last().method, last().url, JSON.parse(last().body)]).toEqual([
      'POST',
      '/api/v1/cluster/invitations',
      { expiresInMinutes: 90 },
    ]);
    answer = json(200, { routerId: 'r/1', enrolled: false, certificate: null, pendingTokens: 0 });
    await expect(client().routerEnrollment('r/1')).resolves.toMatchObject({ enrolled: false });
    expect([last().method, last().url]).toEqual(['GET', '/api/v1/routers/r%2F1/enrollment']);
    answer = json(201, { token: 'mdjoin1.r.s', invitation: {} });
    await client().enrollRouter('r/1', 30);
    expect([last().method, last().url, JSON.parse(last().body)]).toEqual([
      'POST',
      '/api/v1/routers/r%2F1/enrollment',
      { expiresInMinutes: 30 },
    ]);
    answer = json(200, { data: [] });
    await expect(client().invitations()).resolves.toEqual([]);
    expect([last().method, last().url]).toEqual(['GET', '/api/v1/cluster/invitations']);
    answer = json(200, {});
    await client().revokeInvitation('a/b');
    expect([last().method, last().url]).toEqual(['DELETE', '/api/v1/cluster/invitations/a%2Fb']);
    answer = json(200, { certificate: 'PEM', fingerprint: 'AB' });
    await expect(client().clusterCa()).resolves.toEqual({ certificate: 'PEM', fingerprint: 'AB' });
    expect(last().url).toBe('/api/v1/cluster/ca');
  });

  it('reads the event backlog from a {data} list', async () => {
    answer = json(200, {
      data: [{ kind: 'entity', op: 'create', collection: 'identities', id: 'i1', index: 5, seq: 1, at: 'x' }],
      meta: { truncated: false, latestIndex: 5 },
    });
    const events = await client().recentEvents(4);
    expect(new URL(last().url, baseUrl).searchParams.get('since')).toBe('4');
    expect(events.map((e) => [e.type, e.collection, e.entityId, e.index])).toEqual([
      ['entity.create', 'identities', 'i1', 5],
    ]);
  });

  it('builds same-origin URLs when the base URL is empty', () => {
    const { url, init } = buildRequest('', { method: 'GET', path: '/health', auth: false }, 'T');
    expect(url).toBe('/api/v1/health');
    expect((init.headers as Record<string, string>).authorization).toBeUndefined();
  });
});

describe('AdminApi errors', () => {
  it('turns problem+json into an ApiError with field errors', async () => {
    answer = problem(400, {
      type: 'urn:meshdesk:problem:invalid',
      title: 'Bad Request',
      status: 400,
      detail: 'invalid identities fields',
      code: 'INVALID',
      errors: [
        { field: 'name', message: 'Too small' },
        { field: 'tags.x', message: 'bad' },
      ],
    });
    const error = await client()
      .create('identities', { name: '' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    const apiError = error as ApiError;
    expect(apiError.kind).toBe('http');
    expect(apiError.status).toBe(400);
    expect(apiError.message).toBe('Bad Request: invalid identities fields');
    expect(apiError.fieldErrors).toEqual([
      { field: 'name', message: 'Too small' },
      { field: 'tags.x', message: 'bad' },
    ]);
  });

  it('reads Retry-After on 503 and marks 504 as an unknown outcome', async () => {
    answer = problem(
      503,
      { title: 'Service Unavailable', status: 503, detail: 'no leader' },
      { 'retry-after': '1' },
    );
    const noLeader = (await client()
      .create('services', { name: 'x' })
      .catch((e: unknown) => e)) as ApiError;
    expect([noLeader.status, noLeader.retryAfter, noLeader.outcomeUnknown]).toEqual([503, 1, false]);

    answer = problem(504, { title: 'Gateway Timeout', status: 504, detail: 'may still apply' });
    const unknown = (await client()
      .create('services', { name: 'x' })
      .catch((e: unknown) => e)) as ApiError;
    expect(unknown.outcomeUnknown).toBe(true);
  });

  it('calls onUnauthorized on a 401, but not for a failed login', async () => {
    let signedOut = 0;
    answer = problem(401, { title: 'Unauthorized', status: 401, detail: 'token expired' });
    const error = (await client('old', () => (signedOut += 1))
      .cluster()
      .catch((e: unknown) => e)) as ApiError;
    expect([error.kind, signedOut]).toEqual(['unauthorized', 1]);

    const login = (await client(null, () => (signedOut += 1))
      .login('admin', 'wrong')
      .catch((e: unknown) => e)) as ApiError;
    expect([login.kind, login.status, signedOut]).toEqual(['http', 401, 1]);
  });

  it('answers health with the document a starting node sends with its 503; other 503s stay errors', async () => {
    const starting = contractAnswer(health, {
      status: 'starting',
      nodeId: 'n1',
      name: 'node-1',
      clusterId: 'c1',
      role: 'leader',
      leaderId: 'n1',
      term: 2,
      commitIndex: 3,
      appliedIndex: 3,
      lastIndex: 3,
    });
    answer = json(503, starting, { 'retry-after': '1' });
    await expect(client().health()).resolves.toEqual(starting);

    answer = problem(503, { title: 'Service Unavailable', status: 503, detail: 'closing' });
    const closing = (await client()
      .health()
      .catch((e: unknown) => e)) as ApiError;
    expect([closing.kind, closing.status, closing.problem.detail]).toEqual(['http', 503, 'closing']);
  });

  it('explains an error body that is not JSON', async () => {
    answer = { status: 502, headers: { 'content-type': 'text/plain' }, body: 'upstream broke' };
    const error = (await client()
      .cluster()
      .catch((e: unknown) => e)) as ApiError;
    expect(error.problem).toEqual({ title: 'HTTP 502', status: 502, detail: 'upstream broke', errors: [] });
  });

  it('reports a node that does not answer as a network error', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const api = new AdminApi({ baseUrl: `http://127.0.0.1:${port}`, getToken: () => null });
    const error = (await api.health().catch((e: unknown) => e)) as ApiError;
    expect(error).toBeInstanceOf(ApiError);
    expect([error.kind, error.status]).toEqual(['network', 0]);
    // fetch says only "fetch failed": the cause's code is what tells a person why.
    expect([error.problem.detail, error.problem.code]).toEqual(['ECONNREFUSED', 'ECONNREFUSED']);
  });

  it('refuses a success answer the contract does not allow, naming the route and the field', async () => {
    answer = json(200, { token: 42, expiresAt: '2030-01-01T00:00:00.000Z' });
    const error = (await client()
      .login('admin', 'pw')
      .catch((e: unknown) => e)) as ApiError;
    expect(error).toBeInstanceOf(ApiError);
    expect([error.kind, error.status]).toEqual(['answer', 200]);
    expect(error.message).toBe(
      'The node answered something else: POST /auth/login: token is not what the API contract says',
    );
  });
});

describe('problem parsing', () => {
  it('accepts field errors as a list or as a map of field to messages', () => {
    expect(normaliseFieldErrors([{ field: 'a', message: 'x' }, { message: 'whole body' }, 'junk'])).toEqual([
      { field: 'a', message: 'x' },
      { field: '', message: 'whole body' },
    ]);
    expect(normaliseFieldErrors({ a: 'x', b: ['y', 'z'], c: 3 })).toEqual([
      { field: 'a', message: 'x' },
      { field: 'b', message: 'y' },
      { field: 'b', message: 'z' },
    ]);
    expect(normaliseFieldErrors(undefined)).toEqual([]);
  });

  it('falls back to a title for the status when the body has none', () => {
    expect(toProblem(409, { detail: 'name taken' })).toEqual({
      title: 'Conflict',
      status: 409,
      detail: 'name taken',
      errors: [],
    });
    expect(toProblem(404, undefined, '')).toEqual({ title: 'Not found', status: 404, errors: [] });
  });
});
