/**
 * Admin roles: a read-only admin reads the model, the cluster and the runtime, changes its own
 * password and signs out; every change, the backup and router enrollment tokens are 403 READ_ONLY for
 * it, and it cannot raise its own rights. A role change applies to tokens already issued, and the
 * last admin with full rights can be neither demoted nor deleted (the model refuses it, not only
 * the API, so a batch cannot slip past).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, startApiNode, type ApiNode } from '../support/api-node.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let dir: string;
const AUDITOR = { username: 'auditor', password: 'auditor-password-1' };
let api: ApiNode;
let adminId: string;
let auditorId: string;
let auditor: string;

async function loginAs(who: {
  username: string;
  password: string;
}): Promise<{ token: string; role: string }> {
  const res = await api.call('POST', '/auth/login', { body: who, token: null });
  expect(res.status).toBe(200);
  return res.body;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'meshdesk-roles-'));
  api = await startApiNode(dir);
  const created = await api.call('POST', '/admins', { body: { ...AUDITOR, role: 'readonly' } });
  expect(created.status).toBe(201);
  expect(created.body.role).toBe('readonly');
  auditorId = created.body.id;
  const admins = await api.call('GET', `/admins?filter=${encodeURIComponent('username = "admin"')}`);
  adminId = admins.body.data[0].id;
  const login = await loginAs(AUDITOR);
  expect(login.role).toBe('readonly');
  auditor = login.token;
});

afterAll(async () => {
  await api?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('a read-only admin', () => {
  it('reads the model, the cluster, the runtime and the events', async () => {
    for (const path of [
      '/identities',
      '/admins',
      '/cluster',
      '/cluster/ca',
      '/cluster/invitations',
      '/events',
    ]) {
      expect((await api.call('GET', path, { token: auditor })).status, path).toBe(200);
    }
  });

  it('changes nothing and gets no secret: 403 READ_ONLY, and nothing is written', async () => {
    const identity = await api.call('POST', '/identities', { body: { name: 'laptop' } });
    const router = await api.call('POST', '/routers', { body: { name: 'edge' } });
    expect(router.status).toBe(201);
    const before = (await api.call('GET', '/identities')).body.meta.total;
    const refused: [string, string, unknown?][] = [
      ['POST', '/identities', { name: 'sneaky' }],
      ['PATCH', `/identities/${identity.body.id}`, { name: 'renamed' }],
      ['DELETE', `/identities/${identity.body.id}`],
      ['POST', '/batch', { operations: [{ op: 'create', collection: 'identities', data: { name: 'b' } }] }],
      ['GET', '/backup'],
      ['POST', `/routers/${router.body.id}/enrollment`, {}],
      ['POST', '/cluster/invitations', {}],
      ['POST', '/cluster/snapshot'],
      ['POST', '/cluster/token-keys/rotate'],
      ['POST', '/admins', { username: 'second', password: 'second-password', role: 'admin' }],
    ];
    for (const [method, path, body] of refused) {
      const res = await api.call(method, path, { token: auditor, ...(body === undefined ? {} : { body }) });
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(res.contentType).toContain('application/problem+json');
      expect(res.body.code).toBe('READ_ONLY');
      expect(res.body.detail).toMatch(/^admin auditor is read-only: .* needs an admin with full rights$/);
    }
    const after = await api.call('GET', '/identities');
    expect(after.body.meta.total).toBe(before);
    expect(after.body.data.find((i: { id: string }) => i.id === identity.body.id).name).toBe('laptop');
  });

  it('cannot raise its own rights or touch another admin', async () => {
    for (const [id, body] of [
      [auditorId, { role: 'admin' }],
      [auditorId, { username: 'boss' }],
      [auditorId, { password: 'a-new-password', role: 'admin' }],
      [adminId, { password: 'taken-over-password' }],
    ] as const) {
      const res = await api.call('PATCH', `/admins/${id}`, { token: auditor, body });
      expect(res.status, JSON.stringify(body)).toBe(403);
      expect(res.body.code).toBe('READ_ONLY');
    }
    expect((await loginAs(ADMIN)).role).toBe('admin');
  });

  it('changes its own password (which ends its sessions) and signs out', async () => {
    const changed = await api.call('PATCH', `/admins/${auditorId}`, {
      token: auditor,
      body: { password: 'auditor-password-2' },
    });
    expect(changed.status).toBe(200);
    expect(changed.body.role).toBe('readonly');
    expect((await api.call('GET', '/identities', { token: auditor })).body.code).toBe('SESSION_ENDED');
    AUDITOR.password = 'auditor-password-2';
    auditor = (await loginAs(AUDITOR)).token;
    expect((await api.call('POST', '/auth/logout', { token: auditor })).status).toBe(204);
    auditor = (await loginAs(AUDITOR)).token;
  });
});

describe('a role change', () => {
  it('applies to tokens already issued, both ways', async () => {
    expect((await api.call('PATCH', `/admins/${auditorId}`, { body: { role: 'admin' } })).status).toBe(200);
    const created = await api.call('POST', '/identities', { token: auditor, body: { name: 'by-auditor' } });
    expect(created.status).toBe(201);
    expect((await api.call('PATCH', `/admins/${auditorId}`, { body: { role: 'readonly' } })).status).toBe(
      200,
    );
    const refused = await api.call('POST', '/identities', { token: auditor, body: { name: 'again' } });
    expect(refused.status).toBe(403);
  });
});

describe('the last admin with full rights', () => {
  it('can be neither demoted nor deleted, by a route or by a batch', async () => {
    const demoted = await api.call('PATCH', `/admins/${adminId}`, { body: { role: 'readonly' } });
    expect(demoted.status).toBe(409);
    expect(demoted.body.detail).toMatch(/last admin with full rights cannot be read-only/);
    const deleted = await api.call('DELETE', `/admins/${adminId}`);
    expect(deleted.status).toBe(409);
    expect(deleted.body.code).toBe('LAST_ADMIN');
    // A batch reaches the model without the route's check: the model refuses it alike.
    const batch = await api.call('POST', '/batch', {
      body: { operations: [{ op: 'delete', collection: 'admins', id: adminId }] },
    });
    expect(batch.status).toBe(409);
    expect(batch.body.detail).toMatch(/last admin with full rights cannot be deleted/);
    // A read-only admin can always go.
    expect((await api.call('DELETE', `/admins/${auditorId}`)).status).toBe(204);
    expect((await loginAs(ADMIN)).role).toBe('admin');
  });
});

describe('the OpenAPI document', () => {
  it('says which operations need full rights, and answers them 403', async () => {
    const doc = (await api.call('GET', '/openapi.json', { token: null })).body;
    const create = doc.paths['/api/v1/identities'].post;
    expect(create.description).toMatch(/Needs an admin with full rights/);
    expect(Object.keys(create.responses)).toContain('403');
    const list = doc.paths['/api/v1/identities'].get;
    expect(Object.keys(list.responses)).not.toContain('403');
    expect(Object.keys(doc.paths['/api/v1/backup'].get.responses)).toContain('403');
    expect(doc.paths['/api/v1/admins/{id}'].patch.description).toMatch(/its own password/);
  });
});
