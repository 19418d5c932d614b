/**
 * The runtime part of the AdminApi client and the runtime page's query against a real HTTP
 * server on 127.0.0.1 that answers like the node's runtime routes: the requests as the server
 * receives them, the bodies as the client returns them, and the API's refusals as ApiErrors
 * that keep the problem's code.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { QueryClient } from '@tanstack/react-query';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AdminApi } from '../../../renderer/src/api/admin-api.js';
import { ApiError } from '../../../renderer/src/api/problem.js';
import type { RuntimeLink, RuntimeStatus } from '../../../renderer/src/api/types.js';
import { isNoRuntime, type RuntimeView } from '../../../renderer/src/model/runtime.js';
import { createQueryClient, queryKeys, runtimeQuery } from '../../../renderer/src/queries.js';
import {
  circuitDeleted,
  circuitList,
  createdCircuit,
  entityList,
  linkList,
  problem,
  runtimeLink,
  runtimeStatus,
} from '../../../contract/index.js';
import { answer, entityFixture } from '../../support/contract-fixtures.js';
import { circuitFixture } from './runtime-fixtures.js';

interface Received {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

interface Answer {
  readonly status: number;
  readonly body?: unknown;
  readonly problem?: boolean;
}

const status: RuntimeStatus = answer(runtimeStatus, {
  controller: 'n1',
  routers: [
    {
      id: 'r1',
      name: 'router-1',
      listen: '127.0.0.1:9001',
      connectedSince: '2030-01-01T00:00:00.000Z',
      certificateSerial: '5F3A9C',
    },
  ],
  links: 1,
  circuits: 1,
  dropped: { SCHEMA: 2 },
  droppedTotal: 2,
  refusedHandshakes: 0,
  sessionsCut: 0,
  faultsReceived: 0,
  faultsNotOwned: 0,
  reroutes: 1,
  delayMs: 0,
});

const link: RuntimeLink = answer(runtimeLink, {
  id: 'l1',
  dialer: 'r1',
  acceptor: 'r2',
  dialerName: 'router-1',
  acceptorName: 'router-2',
  latencyMs: 0.4,
  reportedBy: ['r1', 'r2'],
});

const circuit = circuitFixture();
/** What `POST /circuits` answers: the router protocol's circuit, with router names. */
const created = answer(createdCircuit, {
  id: 'c1',
  owner: 'n2',
  ownerName: 'node-2',
  identity: 'alice-laptop',
  service: 'wiki',
  routers: ['router-1', 'router-2'],
  links: ['l1'],
  cost: 3.4,
});

let server: Server;
let baseUrl: string;
let received: Received[] = [];
/** Answers by `METHOD path` (without the query); anything else is a 404. */
let routes: Record<string, Answer> = {};

function answerFor(method: string, url: string): Answer {
  const path = new URL(url, 'http://x').pathname;
  if (method === 'GET' && (path === '/api/v1/identities' || path === '/api/v1/services')) {
    // Like the node: `filter=id in ["a", "b"]` selects those ids.
    const filter = new URL(url, 'http://x').searchParams.get('filter') ?? '';
    const ids = [...filter.matchAll(/"([^"]*)"/g)].map((m) => m[1] ?? '');
    const known: Record<string, string> = { i1: 'alice-laptop', s1: 'wiki' };
    const c = path === '/api/v1/identities' ? 'identities' : 'services';
    const data = ids.filter((id) => id in known).map((id) => entityFixture(c, { id, name: known[id] }));
    const meta = { total: data.length, limit: 100, offset: 0 };
    return { status: 200, body: answer(entityList(c), { data, meta }) };
  }
  return (
    routes[`${method} ${path}`] ?? {
      status: 404,
      problem: true,
      body: answer(problem, {
        type: 'urn:meshdesk:problem:not-found',
        title: 'Not Found',
        status: 404,
        detail: `no route ${path}`,
        code: 'NOT_FOUND',
      }),
    }
  );
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const request = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      received.push(request);
      const answer = answerFor(request.method, request.url);
      res.writeHead(answer.status, {
        'content-type': answer.problem ? 'application/problem+json; charset=utf-8' : 'application/json',
      });
      res.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
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
  routes = {
    'GET /api/v1/runtime': { status: 200, body: status },
    'GET /api/v1/links': { status: 200, body: answer(linkList, { data: [link], meta: { total: 1 } }) },
    'GET /api/v1/circuits': {
      status: 200,
      body: answer(circuitList, { data: [circuit], meta: { total: 1, unreachable: ['n3'] } }),
    },
    'GET /api/v1/circuits/c%2F1': { status: 200, body: circuitFixture({ id: 'c/1' }) },
    'POST /api/v1/circuits': { status: 201, body: created },
    'DELETE /api/v1/circuits/c1': { status: 200, body: answer(circuitDeleted, { id: 'c1', deleted: true }) },
  };
});

const client = () => new AdminApi({ baseUrl, getToken: () => 'T0KEN' });

function last(): Received {
  const request = received.at(-1);
  if (!request) throw new Error('the server received nothing');
  return request;
}

describe('AdminApi runtime calls', () => {
  it('reads the router channel status with the bearer token', async () => {
    await expect(client().runtimeStatus()).resolves.toEqual(status);
    expect([last().method, last().url, last().headers.authorization]).toEqual([
      'GET',
      '/api/v1/runtime',
      'Bearer T0KEN',
    ]);
  });

  it('reads the link table', async () => {
    const links = await client().links();
    expect(links).toEqual({ data: [link], meta: { total: 1 } });
    expect(last().url).toBe('/api/v1/links');
  });

  it('reads the circuits of the cluster, or of this node with scope=local', async () => {
    const list = await client().circuits();
    expect(list.meta).toEqual({ total: 1, unreachable: ['n3'] });
    expect(list.data[0]?.routerNames).toEqual(['router-1', 'router-2']);
    expect(last().url).toBe('/api/v1/circuits');
    await client().circuits('local');
    expect(last().url).toBe('/api/v1/circuits?scope=local');
  });

  it('reads one circuit by its encoded id', async () => {
    const one = await client().circuit('c/1');
    expect(one.id).toBe('c/1');
    expect(last().url).toBe('/api/v1/circuits/c%2F1');
  });

  it('creates a circuit with identity, service and ingress router as the body', async () => {
    const result = await client().createCircuit({
      identity: 'alice-laptop',
      service: 'wiki',
      ingressRouter: 'router-1',
    });
    expect(result.body).toEqual(created);
    expect([last().method, last().url, last().headers['content-type']]).toEqual([
      'POST',
      '/api/v1/circuits',
      'application/json',
    ]);
    expect(JSON.parse(last().body)).toEqual({
      identity: 'alice-laptop',
      service: 'wiki',
      ingressRouter: 'router-1',
    });
  });

  it('keeps the reason and the code of a refused circuit', async () => {
    routes['POST /api/v1/circuits'] = {
      status: 403,
      problem: true,
      body: answer(problem, {
        type: 'urn:meshdesk:problem:policy-denied',
        title: 'Forbidden',
        status: 403,
        detail: 'no Dial policy grants alice-laptop the service wiki',
        code: 'POLICY_DENIED',
      }),
    };
    const error = (await client()
      .createCircuit({ identity: 'alice-laptop', service: 'wiki', ingressRouter: 'router-1' })
      .catch((e: unknown) => e)) as ApiError;
    expect(error).toBeInstanceOf(ApiError);
    expect([error.kind, error.status, error.problem.code]).toEqual(['http', 403, 'POLICY_DENIED']);
    expect(error.message).toBe('Forbidden: no Dial policy grants alice-laptop the service wiki');
  });

  it('deletes a circuit by id, and reports an unknown one as 404', async () => {
    const result = await client().deleteCircuit('c1');
    expect(result.body).toEqual({ id: 'c1', deleted: true });
    expect([last().method, last().url, last().body]).toEqual(['DELETE', '/api/v1/circuits/c1', '']);

    const error = (await client()
      .deleteCircuit('gone')
      .catch((e: unknown) => e)) as ApiError;
    expect([error.status, error.problem.code]).toEqual([404, 'NOT_FOUND']);
  });
});

describe('loading the runtime page through the query cache', () => {
  const load = (queries: QueryClient) => queries.fetchQuery(runtimeQuery(client()));

  it('loads status, links and circuits, then the names of the identities and services', async () => {
    const queries = createQueryClient();
    await load(queries);
    const state = queries.getQueryState(queryKeys.runtime);
    expect(state).toMatchObject({ status: 'success', fetchStatus: 'idle', error: null });
    expect(state?.data).toEqual({
      status,
      links: [link],
      circuits: [circuit],
      unreachable: ['n3'],
      names: { i1: 'alice-laptop', s1: 'wiki' },
    });
    const asked = received
      .map((r) => new URL(r.url, baseUrl))
      .filter((u) => u.pathname === '/api/v1/identities');
    expect(asked.map((u) => u.searchParams.get('filter'))).toEqual(['id in ["i1"]']);

    // Names already known are not asked again.
    received = [];
    await load(queries);
    expect(received.map((r) => r.url).sort()).toEqual([
      '/api/v1/circuits',
      '/api/v1/links',
      '/api/v1/runtime',
    ]);
  });

  it('keeps the last good data when a reload fails, recognises a node without runtime, and clears the error after', async () => {
    const queries = createQueryClient();
    await load(queries);
    const good = routes['GET /api/v1/links'];
    routes['GET /api/v1/links'] = {
      status: 503,
      problem: true,
      body: answer(problem, {
        type: 'urn:meshdesk:problem:no-runtime',
        title: 'Service Unavailable',
        status: 503,
        detail: 'this node runs without runtime data',
        code: 'NO_RUNTIME',
      }),
    };
    await expect(load(queries)).rejects.toBeInstanceOf(ApiError);
    let state = queries.getQueryState<RuntimeView>(queryKeys.runtime);
    expect(isNoRuntime(state?.error)).toBe(true);
    expect(state?.data?.links).toEqual([link]);
    expect([state?.status, state?.fetchStatus]).toEqual(['error', 'idle']);

    if (good) routes['GET /api/v1/links'] = good;
    routes['GET /api/v1/circuits'] = {
      status: 200,
      body: answer(circuitList, { data: [], meta: { total: 0, unreachable: [] } }),
    };
    await load(queries);
    state = queries.getQueryState<RuntimeView>(queryKeys.runtime);
    expect([state?.status, state?.error, state?.data?.unreachable, state?.data?.circuits]).toEqual([
      'success',
      null,
      [],
      [],
    ]);
  });
});
