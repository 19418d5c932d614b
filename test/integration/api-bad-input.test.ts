/**
 * The bad-input table of issue 5: malformed JSON, wrong types, unknown and missing fields, bodies
 * over 1 MiB, invalid filters, SQL and HTML in strings, unknown ids, duplicate names, bad and
 * expired tokens, sent to every route. Each gets its 4xx as problem+json, none a 500, and the
 * model is the same afterwards.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTokenKeyStore } from '../../core/api/token-keys.js';
import { collectionNames, type Collection } from '../../core/model/entities.js';
import { startApiNode, type ApiNode, type CallOptions } from '../support/api-node.js';
import { MODEL_TABLES, modelContents } from '../support/model-tables.js';

const TABLES = [
  ...MODEL_TABLES,
  'terminators',
  'configs',
  'config_types',
  'posture_checks',
  'admins',
  'settings',
  'idempotency_keys',
];

let api: ApiNode;
let dir: string;
const ids: Partial<Record<Collection, string>> = {};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'meshdesk-api-bad-'));
  api = await startApiNode(dir);
  const create = async (c: Collection, body: unknown) => {
    const res = await api.call('POST', `/${c}`, { body });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    ids[c] = res.body.id;
  };
  await create('identities', { name: 'taken' });
  await create('services', { name: 'taken' });
  await create('routers', { name: 'taken' });
  await create('terminators', { serviceId: ids.services, routerId: ids.routers, address: 'tcp:1.2.3.4:5' });
  await create('service-policies', { name: 'taken', type: 'Dial' });
  await create('edge-router-policies', { name: 'taken' });
  await create('service-edge-router-policies', { name: 'taken' });
  await create('config-types', {
    name: 'taken',
    schema: { type: 'object', properties: { port: { type: 'integer' } } },
  });
  await create('configs', { name: 'taken', configTypeId: ids['config-types'] });
  await create('posture-checks', { name: 'taken', type: 'OS' });
  await create('admins', { username: 'taken', password: 'long enough' });
});
afterAll(async () => {
  await api?.stop();
  await rm(dir, { recursive: true, force: true });
});

interface Case {
  readonly name: string;
  readonly method: string;
  readonly path: string;
  readonly options?: CallOptions;
  readonly status: number;
}

const SQL = `x' OR '1'='1'; DROP TABLE identities; --`;
const HTML = '<script>alert(1)</script>';
const BIG = JSON.stringify({ name: 'big', tags: { blob: 'x'.repeat(1024 * 1024 + 10) } });

/** A JSON value `levels` objects deep: from 33 on, past the contract's bound on JSON fields. */
function nested(levels: number): Record<string, unknown> {
  let value: Record<string, unknown> = {};
  for (let i = 1; i < levels; i++) value = { a: value };
  return value;
}

/** A body the create of each collection accepts, but for the named field set to a wrong type. */
const WRONG_TYPE: Record<Collection, object> = {
  identities: { name: 5 },
  services: { name: 'n', encryptionRequired: 'yes' },
  routers: { name: 'n', cost: 'high' },
  terminators: { serviceId: 1, routerId: 2, address: 3 },
  'service-policies': { name: 'n', type: 'Dial', identityRoles: '#all' },
  'edge-router-policies': { name: 'n', semantic: 'Maybe' },
  'service-edge-router-policies': { name: ['n'] },
  'config-types': { name: 'n', schema: 'object' },
  configs: { name: 'n', configTypeId: 7 },
  'posture-checks': { name: 'n', type: HTML },
  admins: { username: 'n', password: 12345678 },
};

function cases(): Case[] {
  const list: Case[] = [];
  for (const c of collectionNames) {
    const id = ids[c] as string;
    list.push(
      {
        name: `${c}: malformed JSON`,
        method: 'POST',
        path: `/${c}`,
        options: { raw: '{"name": ' },
        status: 400,
      },
      { name: `${c}: a JSON array`, method: 'POST', path: `/${c}`, options: { body: [] }, status: 400 },
      {
        name: `${c}: wrong types`,
        method: 'POST',
        path: `/${c}`,
        options: { body: WRONG_TYPE[c] },
        status: 400,
      },
      { name: `${c}: missing fields`, method: 'POST', path: `/${c}`, options: { body: {} }, status: 400 },
      {
        name: `${c}: unknown field`,
        method: 'POST',
        path: `/${c}`,
        options: { body: { ...WRONG_TYPE[c], [SQL]: 1 } },
        status: 400,
      },
      { name: `${c}: body over 1 MiB`, method: 'POST', path: `/${c}`, options: { raw: BIG }, status: 413 },
      {
        name: `${c}: not JSON`,
        method: 'POST',
        path: `/${c}`,
        options: { raw: 'name=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } },
        status: 415,
      },
      { name: `${c}: no body`, method: 'POST', path: `/${c}`, status: 400 },
      { name: `${c}: get unknown id`, method: 'GET', path: `/${c}/nope`, status: 404 },
      { name: `${c}: get SQL id`, method: 'GET', path: `/${c}/${encodeURIComponent(SQL)}`, status: 404 },
      { name: `${c}: get HTML id`, method: 'GET', path: `/${c}/${encodeURIComponent(HTML)}`, status: 404 },
      {
        name: `${c}: patch unknown id`,
        method: 'PATCH',
        path: `/${c}/nope`,
        options: { body: { tags: {} } },
        status: 404,
      },
      {
        name: `${c}: patch unknown field`,
        method: 'PATCH',
        path: `/${c}/${id}`,
        options: { body: { bogus: 1 } },
        status: 400,
      },
      {
        name: `${c}: patch wrong type`,
        method: 'PATCH',
        path: `/${c}/${id}`,
        options: { body: { tags: 'x' } },
        status: 400,
      },
      {
        name: `${c}: patch malformed`,
        method: 'PATCH',
        path: `/${c}/${id}`,
        options: { raw: '{{' },
        status: 400,
      },
      {
        name: `${c}: patch bad If-Match`,
        method: 'PATCH',
        path: `/${c}/${id}`,
        options: { body: { tags: {} }, headers: { 'if-match': 'yesterday' } },
        status: 400,
      },
      {
        name: `${c}: patch stale If-Match`,
        method: 'PATCH',
        path: `/${c}/${id}`,
        options: { body: { tags: {} }, headers: { 'if-match': '"9"' } },
        status: 412,
      },
      { name: `${c}: delete unknown id`, method: 'DELETE', path: `/${c}/nope`, status: 404 },
      {
        name: `${c}: bad filter syntax`,
        method: 'GET',
        path: `/${c}?filter=${encodeURIComponent('id = ')}`,
        status: 400,
      },
      {
        name: `${c}: SQL as a filter field`,
        method: 'GET',
        path: `/${c}?filter=${encodeURIComponent(`${SQL} = 1`)}`,
        status: 400,
      },
      {
        name: `${c}: SQL as a sort`,
        method: 'GET',
        path: `/${c}?sort=${encodeURIComponent(SQL)}`,
        status: 400,
      },
      { name: `${c}: bad limit`, method: 'GET', path: `/${c}?limit=ten`, status: 400 },
      { name: `${c}: bad consistency`, method: 'GET', path: `/${c}?consistency=strong`, status: 400 },
      { name: `${c}: bad minIndex`, method: 'GET', path: `/${c}?minIndex=-3`, status: 400 },
    );
  }
  const name = (c: Collection) =>
    c === 'admins' ? { username: 'taken', password: 'long enough' } : { name: 'taken' };
  for (const c of ['identities', 'services', 'routers', 'config-types', 'admins'] as const) {
    list.push({
      name: `${c}: duplicate name`,
      method: 'POST',
      path: `/${c}`,
      options: { body: name(c) },
      status: 409,
    });
  }
  list.push(
    {
      name: 'duplicate name by rename',
      method: 'POST',
      path: '/identities',
      options: { body: { name: '  taken  ' } },
      status: 409,
    },
    {
      name: 'unknown reference',
      method: 'POST',
      path: '/terminators',
      options: { body: { serviceId: 'nope', routerId: ids.routers, address: 'a' } },
      status: 422,
    },
    {
      name: 'config data against its type',
      method: 'POST',
      path: '/configs',
      options: { body: { name: 'c2', configTypeId: ids['config-types'], data: { port: 'eighty' } } },
      status: 400,
    },
    { name: 'delete in use', method: 'DELETE', path: `/services/${ids.services}`, status: 409 },
    {
      name: 'bad role syntax',
      method: 'POST',
      path: '/service-policies',
      options: { body: { name: 'p', type: 'Dial', identityRoles: ['staff'] } },
      status: 400,
    },
    {
      name: 'bad Idempotency-Key',
      method: 'POST',
      path: '/identities',
      options: { body: { name: 'k' }, headers: { 'idempotency-key': 'has spaces in it' } },
      status: 400,
    },
    // JSON fields are bounded (contract/json-bounds.ts): a value past them never reaches the log.
    ...(
      [
        [
          'config data 1,500 levels deep',
          '/configs',
          { name: 'deep', configTypeId: ids['config-types'], data: nested(1500) },
        ],
        [
          'config data 33 levels deep',
          '/configs',
          { name: 'deep', configTypeId: ids['config-types'], data: nested(33) },
        ],
        [
          'config data of 300 KiB',
          '/configs',
          { name: 'big', configTypeId: ids['config-types'], data: { s: 'x'.repeat(300 * 1024) } },
        ],
        ['config type schema 1,500 levels deep', '/config-types', { name: 'deep', schema: nested(1500) }],
      ] as const
    ).map(([name, path, body]): Case => ({ name, method: 'POST', path, options: { body }, status: 400 })),
    {
      name: 'config data patched 1,500 levels deep',
      method: 'PATCH',
      path: `/configs/${ids.configs}`,
      options: { body: { data: nested(1500) } },
      status: 400,
    },
    {
      name: 'batch: config data 1,500 levels deep',
      method: 'POST',
      path: '/batch',
      options: {
        body: {
          operations: [
            {
              op: 'create',
              collection: 'configs',
              data: { name: 'deep', configTypeId: ids['config-types'], data: nested(1500) },
            },
          ],
        },
      },
      status: 400,
    },
    { name: 'batch: malformed', method: 'POST', path: '/batch', options: { raw: '[' }, status: 400 },
    {
      name: 'batch: empty',
      method: 'POST',
      path: '/batch',
      options: { body: { operations: [] } },
      status: 400,
    },
    {
      name: 'batch: unknown op',
      method: 'POST',
      path: '/batch',
      options: { body: { operations: [{ op: 'drop', collection: 'identities', id: 'x' }] } },
      status: 400,
    },
    {
      name: 'batch: unknown collection',
      method: 'POST',
      path: '/batch',
      options: { body: { operations: [{ op: 'delete', collection: 'users', id: 'x' }] } },
      status: 400,
    },
    {
      name: 'batch: unknown field',
      method: 'POST',
      path: '/batch',
      options: { body: { operations: [], extra: 1 } },
      status: 400,
    },
    {
      name: 'batch: bad data',
      method: 'POST',
      path: '/batch',
      options: {
        body: {
          operations: [
            { op: 'create', collection: 'identities', data: { name: 'ok' } },
            { op: 'create', collection: 'routers', data: { cost: 'x' } },
          ],
        },
      },
      status: 400,
    },
    {
      name: 'batch: duplicate names roll back the batch',
      method: 'POST',
      path: '/batch',
      options: {
        body: {
          operations: [
            { op: 'create', collection: 'identities', data: { name: 'fresh' } },
            { op: 'create', collection: 'identities', data: { name: 'taken' } },
          ],
        },
      },
      status: 409,
    },
    {
      name: 'batch: unknown id',
      method: 'POST',
      path: '/batch',
      options: {
        body: {
          operations: [
            { op: 'create', collection: 'identities', data: { name: 'fresh2' } },
            { op: 'delete', collection: 'routers', id: 'nope' },
          ],
        },
      },
      status: 404,
    },
    { name: 'batch: over 1 MiB', method: 'POST', path: '/batch', options: { raw: BIG }, status: 413 },
    {
      name: 'login: malformed',
      method: 'POST',
      path: '/auth/login',
      options: { raw: '{', token: null },
      status: 400,
    },
    {
      name: 'login: missing',
      method: 'POST',
      path: '/auth/login',
      options: { body: { username: 'admin' }, token: null },
      status: 400,
    },
    {
      name: 'login: wrong types',
      method: 'POST',
      path: '/auth/login',
      options: { body: { username: 1, password: [] }, token: null },
      status: 400,
    },
    {
      name: 'login: unknown field',
      method: 'POST',
      path: '/auth/login',
      options: { body: { username: 'a', password: 'b', admin: true }, token: null },
      status: 400,
    },
    {
      name: 'login: SQL username',
      method: 'POST',
      path: '/auth/login',
      options: { body: { username: SQL, password: SQL }, token: null },
      status: 401,
    },
    { name: 'policy check: missing', method: 'GET', path: '/policy-check', status: 400 },
    {
      name: 'policy check: bad type',
      method: 'GET',
      path: `/policy-check?identity=${ids.identities}&service=${ids.services}&type=${encodeURIComponent(HTML)}`,
      status: 400,
    },
    {
      name: 'policy check: unknown ids',
      method: 'GET',
      path: `/policy-check?identity=${encodeURIComponent(SQL)}&service=nope`,
      status: 404,
    },
    {
      name: 'services of: bad type',
      method: 'GET',
      path: `/identities/${ids.identities}/services?type=both`,
      status: 400,
    },
    { name: 'services of: unknown identity', method: 'GET', path: '/identities/nope/services', status: 404 },
    { name: 'events: bad since', method: 'GET', path: '/events?since=yesterday', status: 400 },
    {
      name: 'cluster add: malformed',
      method: 'POST',
      path: '/cluster/members',
      options: { raw: '{' },
      status: 400,
    },
    {
      name: 'cluster add: wrong types',
      method: 'POST',
      path: '/cluster/members',
      options: { body: { address: 5 } },
      status: 400,
    },
    {
      name: 'cluster add: unknown field',
      method: 'POST',
      path: '/cluster/members',
      options: { body: { address: 'h:1', x: 1 } },
      status: 400,
    },
    {
      name: 'cluster add: missing',
      method: 'POST',
      path: '/cluster/members',
      options: { body: {} },
      status: 400,
    },
    {
      name: 'cluster transfer: unknown field',
      method: 'POST',
      path: '/cluster/transfer-leadership',
      options: { body: { too: 'x' } },
      status: 400,
    },
    { name: 'cluster remove: unknown member', method: 'DELETE', path: '/cluster/members/nope', status: 404 },
    { name: 'unknown route', method: 'GET', path: '/nope', status: 404 },
  );
  return list;
}

describe('bad input', () => {
  it('gets its 4xx as problem+json on every route, never a 500, and changes nothing', async () => {
    const before = modelContents(api.model.model, TABLES);
    const failures: string[] = [];
    for (const c of cases()) {
      const res = await api.call(c.method, c.path, c.options);
      const body = res.body as { status?: number; title?: string; type?: string; detail?: string };
      if (
        res.status !== c.status ||
        !res.contentType.startsWith('application/problem+json') ||
        body.status !== c.status ||
        typeof body.title !== 'string' ||
        typeof body.type !== 'string' ||
        typeof body.detail !== 'string'
      ) {
        failures.push(`${c.name}: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
      }
    }
    expect(failures).toEqual([]);
    expect(modelContents(api.model.model, TABLES)).toEqual(before);
    expect((await api.call('GET', '/health', { token: null })).status).toBe(200);
  });

  it('refuses bad and expired tokens on every route but health and login', async () => {
    // Signed with the node's own key (the file in its data dir), published by an earlier login.
    await api.login();
    const key = (await openTokenKeyStore(dir)).current();
    const expired = await new SignJWT({ name: 'admin' })
      .setProtectedHeader({ alg: 'ES256', kid: key.kid })
      .setSubject('whoever')
      .setIssuer('meshdesk')
      .setAudience(api.node.clusterId)
      .setIssuedAt(Math.floor(Date.now() / 1000) - 7200)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 3600)
      .sign(key.privateKey);
    const doc = (await api.call('GET', '/openapi.json')).body as {
      paths: Record<string, Record<string, { security?: unknown[] }>>;
    };
    const before = modelContents(api.model.model, TABLES);
    const failures: string[] = [];
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        // The document says which routes need no token (login, health, the document itself).
        if (operation.security?.length === 0) continue;
        const concrete = path.replace('/api/v1', '').replaceAll('{id}', 'x');
        for (const [label, token] of [
          ['bad', 'not.a.token'],
          ['expired', expired],
        ] as const) {
          const verb = method.toUpperCase();
          const body = verb === 'GET' || verb === 'DELETE' ? {} : { body: { name: 'n' } };
          const res = await api.call(verb, concrete, { token, ...body });
          if (res.status !== 401 || !res.contentType.startsWith('application/problem+json')) {
            failures.push(`${label} ${method} ${path}: ${res.status}`);
          }
          if (label === 'expired' && res.body.code !== 'TOKEN_EXPIRED')
            failures.push(`${method} ${path}: ${res.body.code}`);
        }
      }
    }
    expect(failures).toEqual([]);
    expect(modelContents(api.model.model, TABLES)).toEqual(before);
  });

  it('stores SQL and HTML in names as plain text', async () => {
    for (const name of [SQL, HTML]) {
      const res = await api.call('POST', '/identities', { body: { name } });
      expect(res.status).toBe(201);
      expect(res.body.name).toBe(name);
      const found = await api.call(
        'GET',
        `/identities?filter=${encodeURIComponent(`name = ${JSON.stringify(name)}`)}`,
      );
      expect(found.body.data.map((e: { name: string }) => e.name)).toEqual([name]);
    }
    expect((await api.call('GET', '/identities')).body.meta.total).toBe(3);
  });
});
