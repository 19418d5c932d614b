/**
 * Every write's answer is that write's own result, never a later state: concurrent writes to one
 * entity commit in one group and apply in one batch, and each answer must still carry exactly
 * what its own command left (value, revision, ETag), not what the batch's last command left.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startApiNode, type ApiNode } from '../support/api-node.js';
import { useTempDir } from '../support/temp-dir.js';

const dir = useTempDir();
let api: ApiNode;
let configId: string;
let configTypeId: string;

beforeEach(async () => {
  api = await startApiNode(dir());
  const type = await api.call('POST', '/config-types', {
    body: { name: 'register', schema: { type: 'object', properties: { v: { type: 'integer' } } } },
  });
  configTypeId = type.body.id as string;
  const config = await api.call('POST', '/configs', { body: { name: 'r', configTypeId, data: { v: 0 } } });
  expect(config.status).toBe(201);
  configId = config.body.id as string;
});
afterEach(async () => {
  await api?.stop();
});

const CONCURRENT = 24;

describe('write answers', () => {
  it('concurrent PATCHes each answer with their own value, revision and ETag', async () => {
    const answers = await Promise.all(
      Array.from({ length: CONCURRENT }, (_, v) =>
        api.call('PATCH', `/configs/${configId}`, { body: { data: { v: v + 1 } } }),
      ),
    );
    for (const [i, res] of answers.entries()) {
      expect(res.status).toBe(200);
      expect(res.body.data).toEqual({ v: i + 1 });
      expect(res.headers.get('etag')).toBe(`"${String(res.body.revision)}"`);
    }
    // Each write made exactly one revision: 2..CONCURRENT+1, none told twice.
    const revisions = answers.map((r) => r.body.revision as number).sort((a, b) => a - b);
    expect(revisions).toEqual(Array.from({ length: CONCURRENT }, (_, i) => i + 2));
    // The answer with the highest revision is the state the entity is left in.
    const last = answers.find((r) => r.body.revision === CONCURRENT + 1);
    const now = await api.call('GET', `/configs/${configId}`);
    expect(now.body).toEqual(last?.body);
  });

  it('a compare-and-set with the revision an answer gave never overwrites a write it did not see', async () => {
    const first = await api.call('PATCH', `/configs/${configId}`, { body: { data: { v: 100 } } });
    // Many clients race from the same revision: exactly one may win, every other gets 412.
    const answers = await Promise.all(
      Array.from({ length: CONCURRENT }, (_, v) =>
        api.call('PATCH', `/configs/${configId}`, {
          body: { data: { v: 200 + v } },
          headers: { 'if-match': `"${String(first.body.revision)}"` },
        }),
      ),
    );
    const winners = answers.filter((r) => r.status === 200);
    expect(winners).toHaveLength(1);
    expect(answers.filter((r) => r.status === 412)).toHaveLength(CONCURRENT - 1);
    const winner = winners[0];
    const v = answers.indexOf(winner as never) + 200;
    expect(winner?.body).toMatchObject({ data: { v }, revision: first.body.revision + 1 });
  });

  it('concurrent creates answer with the entity each created', async () => {
    const answers = await Promise.all(
      Array.from({ length: CONCURRENT }, (_, i) =>
        api.call('POST', '/identities', { body: { name: `id-${i}` } }),
      ),
    );
    for (const [i, res] of answers.entries()) {
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ name: `id-${i}`, revision: 1 });
      expect(res.headers.get('location')).toBe(`/api/v1/identities/${String(res.body.id)}`);
    }
  });

  it('each batch answers with the entities as its own operations left them', async () => {
    const answers = await Promise.all(
      Array.from({ length: CONCURRENT }, (_, v) =>
        api.call('POST', '/batch', {
          body: {
            operations: [
              { op: 'patch', collection: 'configs', id: configId, data: { data: { v: 1000 + v } } },
              { op: 'create', collection: 'identities', data: { name: `batch-${v}` } },
            ],
          },
        }),
      ),
    );
    const revisions = new Set<number>();
    for (const [v, res] of answers.entries()) {
      expect(res.status).toBe(200);
      const [patched, created] = res.body.results;
      expect(patched).toMatchObject({ op: 'patch', id: configId, entity: { data: { v: 1000 + v } } });
      expect(patched.entity.revision).toBe(patched.revision);
      expect(created).toMatchObject({ op: 'create', entity: { name: `batch-${v}`, revision: 1 } });
      revisions.add(patched.revision as number);
    }
    expect(revisions.size).toBe(CONCURRENT);
  });

  it('a retry with the same Idempotency-Key answers with the first write, not the current state', async () => {
    const headers = { 'idempotency-key': 'write-once' };
    const first = await api.call('PATCH', `/configs/${configId}`, { body: { data: { v: 1 } }, headers });
    await api.call('PATCH', `/configs/${configId}`, { body: { data: { v: 2 } } });
    const retry = await api.call('PATCH', `/configs/${configId}`, { body: { data: { v: 1 } }, headers });
    expect(retry.status).toBe(200);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.body).toEqual(first.body);
    expect(retry.headers.get('etag')).toBe(first.headers.get('etag'));
  });

  it('the same Idempotency-Key with another request is refused, never answered with the first one', async () => {
    // A form's first try is refused (the name is taken); the admin renames and saves again with
    // the same key, as the UI did: that is a new request, which must be tried, not replayed.
    await api.call('POST', '/identities', { body: { name: 'alice-laptop' } });
    const headers = { 'idempotency-key': 'form-attempt-1' };
    const taken = await api.call('POST', '/identities', { body: { name: 'alice-laptop' }, headers });
    expect(taken.status).toBe(409);
    const renamed = await api.call('POST', '/identities', { body: { name: 'alice-laptop-2' }, headers });
    expect(renamed.status).toBe(422);
    expect(renamed.contentType).toContain('application/problem+json');
    expect(renamed.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(renamed.body.detail).toMatch(/used for another request .* use a new key/);
    const names = (await api.call('GET', '/identities')).body.data.map((i: { name: string }) => i.name);
    expect(names).not.toContain('alice-laptop-2');
    // The key still answers its own request: the same body again replays the first refusal.
    const again = await api.call('POST', '/identities', { body: { name: 'alice-laptop' }, headers });
    expect(again.status).toBe(409);
    // Same body with its keys in another order, defaults spelled out: the same request.
    const batchKey = { 'idempotency-key': 'batch-1' };
    const op = { op: 'create', collection: 'services', data: { name: 'wiki', roleAttributes: [] } };
    const first = await api.call('POST', '/batch', { body: { operations: [op] }, headers: batchKey });
    expect(first.status).toBe(200);
    const reordered = { data: { roleAttributes: [], name: 'wiki' }, collection: 'services', op: 'create' };
    const replay = await api.call('POST', '/batch', { body: { operations: [reordered] }, headers: batchKey });
    expect(replay.status).toBe(200);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.body.results).toEqual(first.body.results);
    // Another path with the key: refused too.
    const elsewhere = await api.call('PATCH', `/configs/${configId}`, {
      body: { data: { v: 5 } },
      headers: batchKey,
    });
    expect(elsewhere.status).toBe(422);
  });

  it('a delete answers 204 and a second delete of the same id 404', async () => {
    const created = await api.call('POST', '/identities', { body: { name: 'gone' } });
    const [a, b] = await Promise.all([
      api.call('DELETE', `/identities/${String(created.body.id)}`),
      api.call('DELETE', `/identities/${String(created.body.id)}`),
    ]);
    expect([a.status, b.status].sort()).toEqual([204, 404]);
  });
});
