/** Events (socket.io and the backlog), metrics and the OpenAPI document of one real node. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectionNames, entitySchema } from '../../contract/index.js';
import { startApiNode, type ApiNode } from '../support/api-node.js';
import { waitFor } from '../support/wait.js';

let api: ApiNode;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'meshdesk-api-events-'));
  api = await startApiNode(dir);
});
afterAll(async () => {
  await api?.stop();
  await rm(dir, { recursive: true, force: true });
});

interface Event {
  kind: string;
  index: number;
  op?: string;
  collection?: string;
  id?: string;
  type?: string;
}

function connect(auth: Record<string, unknown>): Socket {
  return io(`${api.url}/events`, { auth, transports: ['websocket'], reconnection: false });
}

describe('events', () => {
  it('streams entity events with their Raft index, and replays the backlog after `since`', async () => {
    const socket = connect({ token: api.token });
    const received: Event[] = [];
    socket.on('event', (e: Event) => received.push(e));
    await new Promise<void>((resolve, reject) => {
      socket.on('connect', resolve);
      socket.on('connect_error', reject);
    });
    try {
      const created = await api.call('POST', '/identities', { body: { name: 'evented' } });
      const index = Number(created.headers.get('x-raft-index'));
      await waitFor(() => received.some((e) => e.id === created.body.id), 'the create event');
      expect(received.find((e) => e.id === created.body.id)).toMatchObject({
        kind: 'entity',
        op: 'create',
        collection: 'identities',
        index,
        revision: 1,
      });

      const backlog = await api.call('GET', `/events?since=${index - 1}`);
      expect(backlog.status).toBe(200);
      expect(backlog.body.data.map((e: Event) => e.id)).toContain(created.body.id);
      expect(backlog.body.meta.truncated).toBe(false);
      const after = await api.call('GET', `/events?since=${index}`);
      expect(after.body.data.map((e: Event) => e.id)).not.toContain(created.body.id);

      // A new connection with `since` gets the backlog first.
      const late = connect({ token: api.token, since: index - 1 });
      const replayed: Event[] = [];
      late.on('event', (e: Event) => replayed.push(e));
      await waitFor(() => replayed.some((e) => e.id === created.body.id), 'the replayed event');
      late.close();
    } finally {
      socket.close();
    }
  });

  it('records cluster events (the node became leader)', async () => {
    const all = await api.call('GET', '/events?since=0');
    const types = all.body.data.filter((e: Event) => e.kind === 'cluster').map((e: Event) => e.type);
    expect(types).toEqual(expect.arrayContaining(['role', 'leader']));
  });

  it('refuses a socket without a valid token', async () => {
    const socket = connect({ token: 'nope' });
    const error = await new Promise<Error & { data?: { status?: number } }>((resolve) =>
      socket.on('connect_error', resolve),
    );
    expect(error.data?.status).toBe(401);
    socket.close();
  });
});

describe('metrics', () => {
  it('exposes Raft, peer, proposal and HTTP figures as Prometheus text', async () => {
    await api.call('GET', '/identities');
    const res = await api.call('GET', '/metrics');
    expect(res.status).toBe(200);
    expect(res.contentType).toContain('text/plain');
    const text = res.body as string;
    for (const name of [
      'meshdesk_raft_term',
      'meshdesk_raft_commit_index',
      'meshdesk_raft_applied_index',
      'meshdesk_raft_role{',
      'meshdesk_proposals_total{',
      'meshdesk_http_requests_total{',
      'meshdesk_http_request_duration_seconds_bucket{',
    ]) {
      expect(text, name).toContain(name);
    }
    expect(text).toMatch(/meshdesk_raft_role\{[^}]*role="leader"[^}]*\} 1/);
    expect(text).toMatch(/meshdesk_http_requests_total\{[^}]*route="\/api\/v1\/identities"[^}]*status="200"/);
  });

  it('times each persist (fsync) and each apply of committed commands', async () => {
    expect((await api.call('POST', '/identities', { body: { name: 'timed-1' } })).status).toBe(201);
    const text = (await api.call('GET', '/metrics')).body as string;
    for (const name of ['meshdesk_raft_persist_seconds_count', 'meshdesk_model_apply_seconds_count']) {
      const count = Number(new RegExp(`^${name}\\{[^}]*\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
      expect(count, name).toBeGreaterThan(0);
    }
  });

  it('needs a token', async () => {
    expect((await api.call('GET', '/metrics', { token: null })).status).toBe(401);
  });
});

describe('openapi', () => {
  it('documents every route with its schemas', async () => {
    const res = await api.call('GET', '/openapi.json');
    expect(res.status).toBe(200);
    const doc = res.body as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toMatch(/^3\./);
    const routes = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`),
    );
    const expected = [
      'POST /api/v1/auth/login',
      'GET /api/v1/health',
      'GET /api/v1/metrics',
      'GET /api/v1/openapi.json',
      'GET /api/v1/events',
      'POST /api/v1/batch',
      'GET /api/v1/identities/{id}/services',
      'GET /api/v1/policy-check',
      'GET /api/v1/cluster',
      'POST /api/v1/cluster/members',
      'DELETE /api/v1/cluster/members/{id}',
      'POST /api/v1/cluster/transfer-leadership',
      'POST /api/v1/cluster/snapshot',
      ...collectionNames.flatMap((c) => [
        `GET /api/v1/${c}`,
        `POST /api/v1/${c}`,
        `GET /api/v1/${c}/{id}`,
        `PATCH /api/v1/${c}/{id}`,
        `DELETE /api/v1/${c}/{id}`,
      ]),
    ];
    // Others may add routes (backup, …); these must all be there.
    expect(routes).toEqual(expect.arrayContaining(expected));
    const createIdentity = doc.paths['/api/v1/identities']?.post as {
      requestBody: {
        content: { 'application/json': { schema: { properties: object; additionalProperties: unknown } } };
      };
    };
    const schema = createIdentity.requestBody.content['application/json'].schema;
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining(['name', 'roleAttributes', 'tags']),
    );
    expect(schema.additionalProperties).toBe(false);
  });

  it('describes the answers of the collection routes from the contract', async () => {
    type Answer = { content: { 'application/json': { schema: Record<string, unknown> } } };
    type Operation = { responses: Record<string, Answer> };
    const doc = (await api.call('GET', '/openapi.json')).body as {
      paths: Record<string, Record<string, Operation>>;
    };
    const answer = (path: string, method: string, status: string) =>
      doc.paths[`/api/v1${path}`]?.[method]?.responses[status]?.content['application/json'].schema;
    const propertiesOf = (schema: Record<string, unknown> | undefined) =>
      Object.keys((schema?.properties ?? {}) as object).sort();
    for (const c of collectionNames) {
      const entity = Object.keys(entitySchema(c).shape).sort();
      expect(entity, c).toEqual(expect.arrayContaining(['id', 'createdAt', 'updatedAt', 'revision', 'tags']));
      const list = answer(`/${c}`, 'get', '200');
      expect(propertiesOf(list), `GET /${c}`).toEqual(['data', 'meta']);
      const items = (list?.properties as { data: { items: Record<string, unknown> } }).data.items;
      expect(propertiesOf(items), `GET /${c} data`).toEqual(entity);
      expect(propertiesOf(answer(`/${c}/{id}`, 'get', '200')), `GET /${c}/{id}`).toEqual(entity);
      for (const [method, status] of [
        ['post', '201'],
        ['patch', '200'],
      ] as const) {
        const written = answer(method === 'post' ? `/${c}` : `/${c}/{id}`, method, status);
        const variants = (written?.anyOf ?? []) as Record<string, unknown>[];
        expect(propertiesOf(variants[0]), `${method} ${c}`).toEqual(entity);
      }
    }
    expect(propertiesOf(answer('/admins/{id}', 'get', '200'))).not.toContain('passwordHash');
    expect(propertiesOf(answer('/runtime', 'get', '200'))).toContain('droppedTotal');
    expect(propertiesOf(answer('/health', 'get', '503'))).toContain('status');
  });
});
