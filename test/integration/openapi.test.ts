/**
 * The OpenAPI document a real node serves, as third-party tools take it: a validator
 * (@apidevtools/swagger-parser) accepts it with every `$ref` resolved, a client generator
 * (openapi-typescript) turns it into types that type-check a few calls through openapi-fetch (and
 * refuse wrong ones), and real answers of the node match the schemas the document gives them.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import SwaggerParser from '@apidevtools/swagger-parser';
import { Ajv2020 } from 'ajv/dist/2020.js';
import openapiTS, { astToString } from 'openapi-typescript';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectionNames, entitySchema } from '../../contract/index.js';
import { startApiNode, type ApiNode } from '../support/api-node.js';

type Operation = {
  operationId?: string;
  security?: Record<string, string[]>[];
  responses: Record<string, { content?: Record<string, { schema: unknown }> }>;
};
type Document = {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown> };
};

let api: ApiNode;
let dir: string;
let doc: Document;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'meshdesk-openapi-'));
  api = await startApiNode(dir);
  const res = await api.call<Document>('GET', '/openapi.json', { token: null });
  expect(res.status).toBe(200);
  doc = res.body;
});

afterAll(async () => {
  await api?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** The document with every `$ref` replaced by what it names (as generators see it). */
async function dereferenced(): Promise<Document> {
  return (await SwaggerParser.dereference(structuredClone(doc) as never)) as unknown as Document;
}

function operations(): { method: string; path: string; operation: Operation }[] {
  return Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => ({ method, path, operation })),
  );
}

describe('the served document', () => {
  it('is valid OpenAPI 3.1 for a third-party validator, with every $ref resolved', async () => {
    expect(doc.openapi).toBe('3.1.0');
    await expect(SwaggerParser.validate(structuredClone(doc) as never)).resolves.toBeTruthy();
    const dereferenced = JSON.stringify(await SwaggerParser.dereference(structuredClone(doc) as never));
    expect(dereferenced).not.toContain('"$ref"');
  });

  it('gives every operation a unique id, an answer schema and problem+json errors', () => {
    const ids = operations().map(({ operation }) => operation.operationId);
    expect(ids.every((id) => typeof id === 'string')).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    const missing: string[] = [];
    for (const { method, path, operation } of operations()) {
      const success = Object.entries(operation.responses).filter(([status]) => status.startsWith('2'));
      const described = success.some(([status, answer]) => status === '204' || answer.content !== undefined);
      if (!described) missing.push(`${method} ${path}: no success answer`);
      const problem = operation.responses.default?.content?.['application/problem+json']?.schema;
      if (JSON.stringify(problem) !== JSON.stringify({ $ref: '#/components/schemas/Problem' }))
        missing.push(`${method} ${path}: no problem answer`);
    }
    expect(missing).toEqual([]);
  });

  it('marks exactly login, health, joining or enrolling with a one-time token, the cluster CA and the document itself as needing no token, and they need none', async () => {
    const open = operations().filter(({ operation }) => operation.security?.length === 0);
    expect(open.map(({ method, path }) => `${method} ${path}`).sort()).toEqual([
      'get /api/v1/cluster/ca',
      'get /api/v1/health',
      'get /api/v1/openapi.json',
      'post /api/v1/auth/login',
      'post /api/v1/cluster/join',
      'post /api/v1/routers/enroll',
    ]);
    for (const { operation } of operations()) {
      if (operation.security?.length !== 0) {
        expect(operation.responses['401'], operation.operationId).toBeDefined();
      }
    }
    expect((await api.call('GET', '/health', { token: null })).status).toBe(200);
    expect((await api.call('GET', '/openapi.json', { token: null })).status).toBe(200);
    expect((await api.call('GET', '/cluster/ca', { token: null })).status).toBe(200);
    const login = await api.call('POST', '/auth/login', {
      token: null,
      body: { username: 'admin', password: 'x' },
    });
    expect(login.status).toBe(401);
    expect(login.body.code).toBe('BAD_CREDENTIALS');
  });
});

describe('the document’s routes and schemas', () => {
  it('documents every route with its schemas', async () => {
    const doc = await dereferenced();
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
    const createIdentity = doc.paths['/api/v1/identities']?.post as unknown as {
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
    const doc = (await dereferenced()) as unknown as { paths: Record<string, Record<string, Operation>> };
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

describe('real answers match the document', () => {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  beforeAll(() => {
    ajv.addSchema(doc, 'openapi.json');
  });

  /** Checks a real answer against the schema the document gives its operation and status. */
  function expectDocumented(
    path: string,
    method: string,
    res: { status: number; body: unknown; contentType: string },
  ) {
    const media = res.contentType.split(';')[0] ?? '';
    const answer = doc.paths[`/api/v1${path}`]?.[method]?.responses;
    const documented = answer?.[String(res.status)] ?? answer?.default;
    expect(documented?.content?.[media], `${method} ${path} ${res.status} ${media}`).toBeDefined();
    const pointer = [
      'paths',
      `/api/v1${path}`,
      method,
      'responses',
      answer?.[String(res.status)] ? String(res.status) : 'default',
      'content',
      media,
      'schema',
    ]
      .map((part) => part.replaceAll('~', '~0').replaceAll('/', '~1'))
      .join('/');
    const validate = ajv.getSchema(`openapi.json#/${pointer}`);
    expect(validate, pointer).toBeDefined();
    const ok = validate?.(res.body);
    expect(ok ? [] : validate?.errors, `${method} ${path} ${res.status}`).toEqual([]);
  }

  it('for writes, reads, a batch, events, the cluster and problems', async () => {
    const created = await api.call('POST', '/identities', {
      body: { name: 'laptop', roleAttributes: ['staff'] },
    });
    expect(created.status).toBe(201);
    expectDocumented('/identities', 'post', created);
    expectDocumented('/identities', 'get', await api.call('GET', '/identities'));
    expectDocumented('/identities/{id}', 'get', await api.call('GET', `/identities/${created.body.id}`));
    const batch = await api.call('POST', '/batch', {
      body: {
        operations: [
          { op: 'create', collection: 'services', id: 'svc-1', data: { name: 'wiki' } },
          { op: 'patch', collection: 'identities', id: created.body.id, data: { type: 'User' } },
        ],
      },
    });
    expect(batch.status).toBe(200);
    expectDocumented('/batch', 'post', batch);
    expectDocumented('/events', 'get', await api.call('GET', '/events?since=0'));
    expectDocumented('/cluster', 'get', await api.call('GET', '/cluster'));
    expectDocumented('/health', 'get', await api.call('GET', '/health', { token: null }));
    expectDocumented(
      '/policy-check',
      'get',
      await api.call('GET', `/policy-check?identity=${created.body.id}&service=svc-1`),
    );
    const taken = await api.call('POST', '/identities', { body: { name: 'laptop' } });
    expect(taken.status).toBe(409);
    expectDocumented('/identities', 'post', taken);
    const unknown = await api.call('GET', '/identities/nobody');
    expect(unknown.status).toBe(404);
    expectDocumented('/identities/{id}', 'get', unknown);
    const unauthorized = await api.call('GET', '/identities', { token: null });
    expect(unauthorized.status).toBe(401);
    expectDocumented('/identities', 'get', unauthorized);
  });
});

describe('a client generated from the document', () => {
  it('type-checks calls that match the API and refuses calls that do not', async () => {
    // Fields with a default are optional in requests: openapi-typescript makes them required
    // unless told not to (its defaultNonNullable, openapi-ts/openapi-typescript#1741).
    const types = astToString(await openapiTS(structuredClone(doc) as never, { defaultNonNullable: false }));
    const outRoot = resolve('out');
    mkdirSync(outRoot, { recursive: true });
    const dir = mkdtempSync(join(outRoot, 'openapi-client-'));
    try {
      writeFileSync(join(dir, 'schema.ts'), types);
      writeFileSync(join(dir, 'calls.ts'), CALLS);
      const program = ts.createProgram([join(dir, 'calls.ts')], {
        strict: true,
        noEmit: true,
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.NodeNext,
        moduleResolution: ts.ModuleResolutionKind.NodeNext,
        skipLibCheck: true,
        types: [],
      });
      const errors = ts.getPreEmitDiagnostics(program).map((d) => {
        const line =
          d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line + 1 : 0;
        return `${d.file?.fileName ?? ''}:${line}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
      });
      expect(errors).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * Calls through openapi-fetch typed by the generated `paths`: the right ones compile, and each
 * `@ts-expect-error` fails the compilation if the generated types would let its wrong call through.
 */
const CALLS = `
import createClient from 'openapi-fetch';
import type { components, paths } from './schema.js';

type Identity = components['schemas']['Identity'];

export async function calls(baseUrl: string, token: string): Promise<void> {
  const client = createClient<paths>({ baseUrl, headers: { authorization: 'Bearer ' + token } });

  const health = await client.GET('/api/v1/health');
  const role: string | undefined = health.data?.role;

  const created = await client.POST('/api/v1/identities', {
    body: { name: 'laptop', roleAttributes: ['staff'] },
    params: { header: { 'idempotency-key': 'k-1' } },
  });
  const code: string | undefined = created.error?.code;

  const page = await client.GET('/api/v1/identities', { params: { query: { limit: 10, filter: 'name = "laptop"' } } });
  const identities: readonly Identity[] | undefined = page.data?.data;
  const total: number | undefined = page.data?.meta.total;

  await client.PATCH('/api/v1/identities/{id}', {
    params: { path: { id: 'x' }, header: { 'if-match': '"1"' } },
    body: { type: 'User' },
  });
  const check = await client.GET('/api/v1/policy-check', { params: { query: { identity: 'a', service: 'b' } } });
  const allowed: boolean | undefined = check.data?.allowed;
  const batch = await client.POST('/api/v1/batch', {
    body: { operations: [{ op: 'delete', collection: 'services', id: 's' }] },
  });
  const index: number | undefined = batch.data?.index;

  // @ts-expect-error a name is a string
  await client.POST('/api/v1/identities', { body: { name: 42 } });
  // @ts-expect-error a create needs a name
  await client.POST('/api/v1/identities', { body: { type: 'User' } });
  // @ts-expect-error limit is a number
  await client.GET('/api/v1/identities', { params: { query: { limit: 'ten' } } });
  // @ts-expect-error the type of an identity is one of a few
  await client.PATCH('/api/v1/identities/{id}', { params: { path: { id: 'x' } }, body: { type: 'Toaster' } });
  // @ts-expect-error no such route
  await client.GET('/api/v1/nothing');
  // @ts-expect-error a health answer has no token
  const token2: string | undefined = health.data?.token;

  void [role, code, identities, total, allowed, index, token2];
}
`;
