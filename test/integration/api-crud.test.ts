/** CRUD on every collection through the REST API of one real node. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { collectionNames } from '../../core/model/entities.js';
import { startApiNode, type ApiNode } from '../support/api-node.js';
import { useTempDir } from '../support/temp-dir.js';

const dir = useTempDir();
let api: ApiNode;
beforeEach(async () => {
  api = await startApiNode(dir());
});
afterEach(async () => {
  await api?.stop();
});

describe('the API on one node', () => {
  it('answers health without a token', async () => {
    const res = await api.call('GET', '/health', { token: null });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ role: 'leader', nodeId: api.node.id, clusterId: api.node.clusterId });
    // Bootstrap's addVoter (1), the new leader's no-op (2), the first admin (3), and the node's
    // token key, published by its first login (4); later logins write nothing.
    expect(res.body).toMatchObject({ appliedIndex: 4, commitIndex: 4, lastIndex: 4 });
  });

  it('shows the cluster and takes a snapshot', async () => {
    const cluster = await api.call('GET', '/cluster');
    expect(cluster.status).toBe(200);
    expect(cluster.body).toMatchObject({ clusterId: api.node.clusterId, leaderId: api.node.id });
    expect(cluster.body.members).toEqual([
      expect.objectContaining({ id: api.node.id, voter: true, leader: true }),
    ]);
    const snapshot = await api.call('POST', '/cluster/snapshot');
    expect(snapshot.status).toBe(200);
    // Everything applied so far: the bootstrap entries, the first admin and the token key.
    expect(snapshot.body.index).toBe(4);
    expect(snapshot.headers.get('x-raft-index')).toBe('4');
    // Reads and writes go on after the snapshot (it exports the database); the log continues after it.
    const after = await api.call('POST', '/identities', { body: { name: 'after-snapshot' } });
    expect(after.status).toBe(201);
    expect(after.headers.get('x-raft-index')).toBe('5');
    // An operation whose body is optional takes a POST with none at all (what fetch sends).
    const transfer = await api.call('POST', '/cluster/transfer-leadership');
    expect([transfer.status, transfer.body.code]).toEqual([409, 'MEMBERSHIP_CONFLICT']);
  });

  it('creates, gets, patches and deletes in every collection', async () => {
    const ids: Record<string, string> = {};
    const create = async (c: string, body: unknown) => {
      const res = await api.call('POST', `/${c}`, { body });
      expect(res.status, `${c}: ${JSON.stringify(res.body)}`).toBe(201);
      ids[c] = res.body.id;
      return res.body;
    };
    await create('identities', { name: 'i1' });
    await create('services', { name: 's1' });
    await create('routers', { name: 'r1' });
    await create('terminators', {
      serviceId: ids.services,
      routerId: ids.routers,
      address: 'tcp:10.0.0.1:22',
    });
    await create('service-policies', {
      name: 'sp1',
      type: 'Dial',
      identityRoles: ['#all'],
      serviceRoles: ['#all'],
    });
    await create('edge-router-policies', { name: 'erp1', identityRoles: ['#all'], routerRoles: ['#all'] });
    await create('service-edge-router-policies', {
      name: 'serp1',
      serviceRoles: ['#all'],
      routerRoles: ['#all'],
    });
    await create('config-types', { name: 'ct1', schema: { type: 'object' } });
    await create('configs', { name: 'c1', configTypeId: ids['config-types'], data: { a: 1 } });
    await create('posture-checks', { name: 'pc1', type: 'OS' });
    const admin = await create('admins', { username: 'second', password: 'a long password' });
    expect(admin).not.toHaveProperty('passwordHash');
    expect(admin).not.toHaveProperty('password');
    expect(Object.keys(ids).sort()).toEqual([...collectionNames].sort());

    for (const c of collectionNames) {
      const got = await api.call('GET', `/${c}/${ids[c]}`);
      expect(got.status, c).toBe(200);
      const patch = c === 'admins' ? { password: 'another password' } : { tags: { env: 'test' } };
      const patched = await api.call('PATCH', `/${c}/${ids[c]}`, {
        body: patch,
        headers: { 'if-match': '"1"' },
      });
      expect(patched.status, `${c}: ${JSON.stringify(patched.body)}`).toBe(200);
      expect(patched.body.revision).toBe(2);
      const list = await api.call('GET', `/${c}`);
      expect(list.status).toBe(200);
      expect(list.body.data.map((e: { id: string }) => e.id)).toContain(ids[c]);
    }
    // The patched admin logs in with the new password only.
    await expect(api.login('second', 'a long password')).rejects.toThrow(/401/);
    expect(await api.login('second', 'another password')).toMatch(/^ey/);

    // Deletes in dependency order.
    for (const c of [
      'terminators',
      'configs',
      ...collectionNames.filter((n) => !['terminators', 'configs'].includes(n)),
    ]) {
      const res = await api.call('DELETE', `/${c}/${ids[c]}`);
      expect(res.status, `${c}: ${JSON.stringify(res.body)}`).toBe(204);
    }
  });

  it('creates, reads, lists, patches and deletes an identity', async () => {
    const created = await api.call('POST', '/identities', {
      body: { name: 'alice', roleAttributes: ['staff'] },
    });
    expect(created.status).toBe(201);
    // The first write after the bootstrap entries (1-2), the first admin (3) and the token key (4).
    const createdAt = Number(created.headers.get('x-raft-index'));
    expect(createdAt).toBe(5);
    expect(created.headers.get('location')).toBe(`/api/v1/identities/${created.body.id}`);
    expect(created.body).toMatchObject({
      name: 'alice',
      roleAttributes: ['staff'],
      revision: 1,
      type: 'Device',
    });

    const got = await api.call('GET', `/identities/${created.body.id}`);
    expect(got.status).toBe(200);
    expect(got.body).toEqual(created.body);
    expect(got.headers.get('etag')).toBe('"1"');
    // A read answers the index it saw: the write's, since nothing was proposed after it.
    expect(Number(got.headers.get('x-raft-index'))).toBe(createdAt);

    const patched = await api.call('PATCH', `/identities/${created.body.id}`, {
      body: { roleAttributes: ['ops'] },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ name: 'alice', roleAttributes: ['ops'], revision: 2 });
    expect(Number(patched.headers.get('x-raft-index'))).toBe(createdAt + 1);

    const list = await api.call('GET', '/identities');
    expect(list.body.meta).toEqual({ total: 1, limit: 100, offset: 0 });
    expect(Number(list.headers.get('x-raft-index'))).toBe(createdAt + 1);

    const deleted = await api.call('DELETE', `/identities/${created.body.id}`);
    expect(deleted.status).toBe(204);
    expect(Number(deleted.headers.get('x-raft-index'))).toBe(createdAt + 2);
    expect((await api.call('GET', `/identities/${created.body.id}`)).status).toBe(404);
  });
});
