/**
 * Reads and writes beyond plain CRUD on one real node: paging, filters and sorts, read points,
 * compare-and-set, batches, idempotent retries and the policy questions.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectionNames } from '../../contract/index.js';
import { filterExample } from '../../renderer/src/model/collections.js';
import { startApiNode, type ApiNode } from '../support/api-node.js';
import { modelContents } from '../support/model-tables.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let api: ApiNode;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'meshdesk-api-queries-'));
  api = await startApiNode(dir, { readWaitMs: 300 });
  const operations = Array.from({ length: 25 }, (_, i) => ({
    op: 'create',
    collection: 'routers',
    data: {
      name: `router-${String(i).padStart(2, '0')}`,
      cost: i % 5,
      roleAttributes: i % 2 ? ['odd'] : ['even'],
    },
  }));
  const res = await api.call('POST', '/batch', { body: { operations } });
  expect(res.status).toBe(200);
});
afterAll(async () => {
  await api?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('lists', () => {
  it('page with limit and offset, with the total', async () => {
    const page = await api.call('GET', '/routers?limit=10&offset=20');
    expect(page.status).toBe(200);
    expect(page.body.meta).toEqual({ total: 25, limit: 10, offset: 20 });
    expect(page.body.data.map((r: { name: string }) => r.name)).toEqual([
      'router-20',
      'router-21',
      'router-22',
      'router-23',
      'router-24',
    ]);
  });

  it('filter and sort', async () => {
    const filter = encodeURIComponent('cost >= 3 and anyOf(roleAttributes) = "odd"');
    const res = await api.call('GET', `/routers?filter=${filter}&sort=-cost,name`);
    expect(res.status).toBe(200);
    const names = res.body.data.map((r: { name: string; cost: number }) => `${r.cost}:${r.name}`);
    expect(names).toEqual(['4:router-09', '4:router-19', '3:router-03', '3:router-13', '3:router-23']);
    expect(res.body.meta.total).toBe(5);
  });

  it('refuse a bad filter, sort or limit with a field error', async () => {
    for (const [query, field] of [
      ['filter=name%20%3D', 'filter'],
      ['filter=nosuch%20%3D%201', 'filter'],
      ['sort=nosuch', 'sort'],
      ['limit=5000', 'limit'],
      ['limit=-1', 'limit'],
      ['offset=x', 'offset'],
      ['bogus=1', 'bogus'],
    ] as const) {
      const res = await api.call('GET', `/routers?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.contentType).toContain('application/problem+json');
      expect(
        res.body.errors.map((e: { field: string }) => e.field),
        query,
      ).toContain(field);
    }
  });
});

describe('the UI’s filter examples', () => {
  it('are filters the API accepts, one per collection, with that collection’s own fields', async () => {
    for (const c of collectionNames) {
      const example = filterExample(c);
      const res = await api.call('GET', `/${c}?filter=${encodeURIComponent(example)}`);
      expect(res.status, `${c}: ${example}`).toBe(200);
    }
    expect(filterExample('services')).toBe('name contains "a" and anyOf(roleAttributes) = "ops"');
    expect(filterExample('admins')).toBe('username contains "a"');
  });
});

describe('read points', () => {
  it('minIndex already applied answers at once; a future one is a 504 after the bound', async () => {
    const applied = api.node.replica.appliedIndex();
    const now = await api.call('GET', `/routers?limit=1&minIndex=${applied}`);
    expect(now.status).toBe(200);
    expect(Number(now.headers.get('x-raft-index'))).toBeGreaterThanOrEqual(applied);
    const future = await api.call('GET', `/routers?limit=1&minIndex=${applied + 1000}`);
    expect(future.status).toBe(504);
    expect(future.body.code).toBe('INDEX_NOT_APPLIED');
  });

  it('a linearizable read answers on the leader', async () => {
    const res = await api.call('GET', '/routers?limit=1&consistency=linearizable');
    expect(res.status).toBe(200);
  });
});

describe('writes', () => {
  it('If-Match: a stale revision is 412 and changes nothing', async () => {
    const created = await api.call('POST', '/services', { body: { name: 'cas' } });
    const id = created.body.id as string;
    const first = await api.call('PATCH', `/services/${id}`, {
      body: { encryptionRequired: false },
      headers: { 'if-match': '"1"' },
    });
    expect(first.status).toBe(200);
    expect(first.headers.get('etag')).toBe('"2"');
    const stale = await api.call('PATCH', `/services/${id}`, {
      body: { encryptionRequired: true },
      headers: { 'if-match': '"1"' },
    });
    expect(stale.status).toBe(412);
    expect(stale.body.code).toBe('REVISION_MISMATCH');
    const del = await api.call('DELETE', `/services/${id}`, { headers: { 'if-match': '1' } });
    expect(del.status).toBe(412);
    const got = await api.call('GET', `/services/${id}`);
    expect(got.body).toMatchObject({ encryptionRequired: false, revision: 2 });
  });

  it('a batch applies all or nothing', async () => {
    const before = modelContents(api.model.model);
    const res = await api.call('POST', '/batch', {
      body: {
        operations: [
          { op: 'create', collection: 'identities', data: { name: 'batch-a' } },
          { op: 'create', collection: 'identities', data: { name: 'batch-a' } },
        ],
      },
    });
    expect(res.status).toBe(409);
    expect(res.body.detail).toMatch(/operation 1/);
    expect(modelContents(api.model.model)).toEqual(before);

    const ok = await api.call('POST', '/batch', {
      body: {
        operations: [
          { op: 'create', collection: 'services', id: 'svc-web', data: { name: 'web' } },
          {
            op: 'create',
            collection: 'identities',
            id: 'id-bob',
            data: { name: 'bob', roleAttributes: ['staff'] },
          },
          {
            op: 'create',
            collection: 'routers',
            id: 'r-edge',
            data: { name: 'edge', roleAttributes: ['edge'] },
          },
          {
            op: 'create',
            collection: 'service-policies',
            data: { name: 'staff-web', type: 'Dial', identityRoles: ['#staff'], serviceRoles: ['@svc-web'] },
          },
          {
            op: 'create',
            collection: 'edge-router-policies',
            data: { name: 'all-edge', identityRoles: ['#all'], routerRoles: ['#edge'] },
          },
          {
            op: 'create',
            collection: 'service-edge-router-policies',
            data: { name: 'web-edge', serviceRoles: ['@svc-web'], routerRoles: ['#all'] },
          },
        ],
      },
    });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(ok.body.results).toHaveLength(6);
    expect(ok.body.index).toBe(Number(ok.headers.get('x-raft-index')));
  });

  it('the policy check and the identity’s services follow the policies', async () => {
    const check = await api.call('GET', '/policy-check?identity=id-bob&service=svc-web&type=dial');
    expect(check.status).toBe(200);
    expect(check.body.allowed).toBe(true);
    expect(check.body.policies.map((p: { name: string }) => p.name)).toEqual(['staff-web']);
    const services = await api.call('GET', '/identities/id-bob/services?type=dial');
    expect(services.body.data.map((s: { name: string }) => s.name)).toEqual(['web']);
    const bind = await api.call('GET', '/policy-check?identity=id-bob&service=svc-web&type=bind');
    expect(bind.body.allowed).toBe(false);
    expect((await api.call('GET', '/identities/nobody/services')).status).toBe(404);
    expect((await api.call('GET', '/policy-check?identity=id-bob&service=nope')).status).toBe(404);
  });

  it('a retry with the same Idempotency-Key returns the first result and applies once', async () => {
    const headers = { 'idempotency-key': 'create-carol-1' };
    const first = await api.call('POST', '/identities', { body: { name: 'carol' }, headers });
    expect(first.status).toBe(201);
    const retry = await api.call('POST', '/identities', { body: { name: 'carol' }, headers });
    expect(retry.status).toBe(201);
    expect(retry.body.id).toBe(first.body.id);
    expect(retry.headers.get('location')).toBe(first.headers.get('location'));
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    const list = await api.call('GET', `/identities?filter=${encodeURIComponent('name = "carol"')}`);
    expect(list.body.meta.total).toBe(1);
  });
});
