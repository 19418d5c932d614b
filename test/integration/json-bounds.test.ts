/**
 * JSON fields past the contract's bounds (contract/json-bounds.ts). The refusals of new values are
 * in the bad-input table (api-bad-input.test.ts); here: the bound itself is accepted, and a value
 * stored before the bounds existed (planted by proposing its command directly, as an older
 * version's API let through) no longer breaks every read: it is answered as an object that says
 * why, the rest of the list reads, and an admin can replace or delete it.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JSON_FIELD_MAX_DEPTH } from '../../contract/index.js';
import { encodeCommand } from '../../core/model/commands.js';
import { UNREADABLE_JSON_KEY } from '../../core/model/queries.js';
import { startApiNode, type ApiNode } from '../support/api-node.js';

let api: ApiNode;
let dir: string;
let typeId = '';

function nested(levels: number): Record<string, unknown> {
  let value: Record<string, unknown> = { leaf: true };
  for (let i = 1; i < levels; i++) value = { a: value };
  return value;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'meshdesk-json-bounds-'));
  api = await startApiNode(dir);
  typeId = (await api.call('POST', '/config-types', { body: { name: 'any', schema: {} } })).body.id;
});

afterAll(async () => {
  await api?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('JSON fields', () => {
  it('take a value exactly as deep as the bound', async () => {
    const data = nested(JSON_FIELD_MAX_DEPTH);
    const created = await api.call('POST', '/configs', {
      body: { name: 'at-the-bound', configTypeId: typeId, data },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect((await api.call('GET', `/configs/${created.body.id}`)).body.data).toEqual(data);
  });

  it('answer a value stored before the bound as one that says why, and let it be replaced', async () => {
    const id = randomUUID();
    const planted = await api.node.replica.propose(
      encodeCommand({
        op: 'create',
        collection: 'configs',
        id,
        at: new Date().toISOString(),
        data: { name: 'from-before', configTypeId: typeId, data: nested(1500) },
      }),
    );
    expect((planted.result as { ok?: boolean }).ok, JSON.stringify(planted.result)).toBe(true);

    const list = await api.call('GET', '/configs');
    expect(list.status, JSON.stringify(list.body).slice(0, 300)).toBe(200);
    const byName = Object.fromEntries(
      (list.body.data as { name: string; data: Record<string, unknown> }[]).map((c) => [c.name, c.data]),
    );
    expect(byName['from-before']).toEqual({
      [UNREADABLE_JSON_KEY]: `the stored value is nested deeper than ${JSON_FIELD_MAX_DEPTH} levels: replace it`,
    });
    expect(byName['at-the-bound']).toEqual(nested(JSON_FIELD_MAX_DEPTH));
    expect((await api.call('GET', `/configs/${id}`)).status).toBe(200);

    const replaced = await api.call('PATCH', `/configs/${id}`, { body: { data: { port: 443 } } });
    expect(replaced.status, JSON.stringify(replaced.body)).toBe(200);
    expect((await api.call('GET', `/configs/${id}`)).body.data).toEqual({ port: 443 });
    expect((await api.call('DELETE', `/configs/${id}`)).status).toBeLessThan(300);
  });
});
