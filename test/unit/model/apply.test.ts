/** Deterministic apply: every rule, every refusal, batches, snapshots and determinism across nodes. */
import { describe, expect, it } from 'vitest';
import {
  encodeCommand,
  type EntityData,
  type ModelCommand,
  type SingleCommand,
} from '../../../core/model/commands.js';
import { ModelDatabase } from '../../../core/model/database.js';
import { migrations } from '../../../core/model/migrations/index.js';
import type { Collection } from '../../../core/model/entities.js';
import { ModelStateMachine } from '../../../core/model/state-machine.js';

const AT = '2026-11-26T00:00:00.000Z';
const LATER = '2026-11-26T01:00:00.000Z';

class Harness {
  index = 0;
  private constructor(readonly sm: ModelStateMachine) {}
  static async create(): Promise<Harness> {
    return new Harness(await ModelStateMachine.create());
  }
  run(...commands: ModelCommand[]): unknown[] {
    const committed = commands.map((c) => ({ index: ++this.index, term: 1, data: encodeCommand(c) }));
    return this.sm.apply(committed, this.index);
  }
  one(command: ModelCommand): Record<string, unknown> {
    return this.run(command)[0] as Record<string, unknown>;
  }
  rows(table: string): Record<string, unknown>[] {
    return this.sm.model.all(`SELECT * FROM ${table} ORDER BY 1, 2`);
  }
}

const create = (collection: Collection, id: string, data: EntityData): SingleCommand => ({
  op: 'create',
  collection,
  id,
  at: AT,
  data,
});
const errorCode = (result: unknown): unknown => (result as { error?: { code: string } }).error?.code;

describe('model apply', () => {
  it('answers each entry of one applied batch with the entity as that entry left it', async () => {
    const h = await Harness.create();
    h.one(create('identities', 'i1', { name: 'alice' }));
    const patch = (name: string, at: string): SingleCommand => ({
      op: 'patch',
      collection: 'identities',
      id: 'i1',
      at,
      data: { name },
    });
    // Two writes to one entity committed together: the first's answer is not the second's state.
    const [first, second] = h.run(patch('bob', AT), patch('carol', LATER)) as Record<string, unknown>[];
    expect(first).toMatchObject({ revision: 2, entity: { name: 'bob', revision: 2, updatedAt: AT } });
    expect(second).toMatchObject({ revision: 3, entity: { name: 'carol', revision: 3, updatedAt: LATER } });
  });

  it('creates an entity with defaults, revision 1 and timestamps from the command', async () => {
    const h = await Harness.create();
    expect(h.one(create('identities', 'i1', { name: 'alice', roleAttributes: ['staff'] }))).toEqual({
      ok: true,
      op: 'create',
      collection: 'identities',
      id: 'i1',
      revision: 1,
      // The entity as this command left it, as the API shows it.
      entity: expect.objectContaining({
        id: 'i1',
        name: 'alice',
        type: 'Device',
        roleAttributes: ['staff'],
        createdAt: AT,
        updatedAt: AT,
        revision: 1,
      }),
    });
    expect(h.rows('identities')).toEqual([
      expect.objectContaining({
        id: 'i1',
        name: 'alice',
        type: 'Device',
        role_attributes: '["staff"]',
        created_at: AT,
        updated_at: AT,
        revision: 1,
      }),
    ]);
    expect(h.rows('entity_attributes')).toEqual([
      { entity_type: 'identity', entity_id: 'i1', attribute: 'staff' },
    ]);
    expect(h.sm.model.appliedIndex).toBe(1);
  });

  it('refuses, identically and without throwing, what breaks a rule; the applied index still advances', async () => {
    const h = await Harness.create();
    h.run(
      create('identities', 'i1', { name: 'alice' }),
      create('services', 's1', { name: 'web' }),
      create('routers', 'r1', { name: 'edge' }),
    );
    const cases: [SingleCommand, string][] = [
      [create('identities', 'i2', { name: 'alice' }), 'NAME_TAKEN'],
      [create('identities', 'i1', { name: 'bob' }), 'ID_TAKEN'],
      [create('identities', 'i3', { name: 'x', colour: 'red' }), 'INVALID'],
      [create('identities', 'i3', { name: '' }), 'INVALID'],
      [create('identities', 'i3', { name: 'x', roleAttributes: ['#staff'] }), 'INVALID'],
      [create('service-policies', 'p1', { name: 'p', type: 'Dial', identityRoles: ['staff'] }), 'INVALID'],
      [
        create('service-policies', 'p1', { name: 'p', type: 'Dial', identityRoles: ['#all', '#x'] }),
        'INVALID',
      ],
      [
        create('service-policies', 'p1', { name: 'p', type: 'Dial', identityRoles: ['@nobody'] }),
        'UNKNOWN_REFERENCE',
      ],
      [create('service-policies', 'p1', { name: 'p', type: 'Send' }), 'INVALID'],
      [
        create('terminators', 't1', { serviceId: 'nope', routerId: 'r1', address: 'tcp:a:1' }),
        'UNKNOWN_REFERENCE',
      ],
      [create('configs', 'c1', { name: 'c', configTypeId: 'nope' }), 'UNKNOWN_REFERENCE'],
      [{ op: 'delete', collection: 'identities', id: 'ghost' }, 'NOT_FOUND'],
      [
        { op: 'patch', collection: 'identities', id: 'i1', at: LATER, data: { name: 'a2' }, ifRevision: 7 },
        'REVISION_MISMATCH',
      ],
    ];
    for (const [command, code] of cases)
      expect(errorCode(h.one(command)), JSON.stringify(command)).toBe(code);
    expect(h.rows('identities')).toHaveLength(1);
    expect(h.rows('service_policies')).toHaveLength(0);
    expect(h.sm.model.appliedIndex).toBe(h.index);
  });

  it('refuses a malformed entry as a result, not an exception', async () => {
    const h = await Harness.create();
    const results = h.sm.apply([{ index: 1, term: 1, data: new TextEncoder().encode('{not json') }], 1);
    expect(errorCode(results[0])).toBe('INVALID');
    expect(h.sm.model.appliedIndex).toBe(1);
  });

  it('validates config data against its type with JSON Schema', async () => {
    const h = await Harness.create();
    const schema = {
      type: 'object',
      properties: { port: { type: 'integer', maximum: 65535 } },
      required: ['port'],
    };
    h.run(create('config-types', 'ct', { name: 'intercept', schema }));
    expect(
      h.one(create('configs', 'c1', { name: 'ok', configTypeId: 'ct', data: { port: 443 } })),
    ).toMatchObject({ ok: true });
    const bad = h.one(create('configs', 'c2', { name: 'bad', configTypeId: 'ct', data: { port: 'https' } }));
    expect(bad).toMatchObject({
      ok: false,
      error: { code: 'INVALID', errors: [{ field: 'data.port', message: 'must be integer' }] },
    });
  });

  it('patches with compare-and-set, bumping the revision and updatedAt', async () => {
    const h = await Harness.create();
    h.run(create('routers', 'r1', { name: 'edge', cost: 5 }));
    expect(
      h.one({ op: 'patch', collection: 'routers', id: 'r1', at: LATER, data: { cost: 9 }, ifRevision: 1 }),
    ).toMatchObject({ ok: true, revision: 2 });
    expect(h.rows('routers')[0]).toMatchObject({
      name: 'edge',
      cost: 9,
      revision: 2,
      created_at: AT,
      updated_at: LATER,
    });
    expect(
      errorCode(
        h.one({ op: 'patch', collection: 'routers', id: 'r1', at: LATER, data: { cost: 1 }, ifRevision: 1 }),
      ),
    ).toBe('REVISION_MISMATCH');
  });

  it('refuses to delete what is still referenced', async () => {
    const h = await Harness.create();
    h.run(
      create('identities', 'i1', { name: 'alice' }),
      create('services', 's1', { name: 'web' }),
      create('routers', 'r1', { name: 'edge' }),
      create('terminators', 't1', { serviceId: 's1', routerId: 'r1', address: 'tcp:10.0.0.1:80' }),
      create('service-policies', 'p1', {
        name: 'p',
        type: 'Dial',
        identityRoles: ['@i1'],
        serviceRoles: ['#all'],
      }),
    );
    expect(errorCode(h.one({ op: 'delete', collection: 'services', id: 's1' }))).toBe('IN_USE');
    expect(errorCode(h.one({ op: 'delete', collection: 'identities', id: 'i1' }))).toBe('IN_USE');
    expect(h.one({ op: 'delete', collection: 'terminators', id: 't1' })).toMatchObject({ ok: true });
    expect(h.one({ op: 'delete', collection: 'services', id: 's1' })).toMatchObject({ ok: true });
  });

  it('applies a batch all or nothing', async () => {
    const h = await Harness.create();
    const failing = h.one({
      op: 'batch',
      commands: [create('identities', 'i1', { name: 'a' }), create('identities', 'i2', { name: 'a' })],
    });
    expect(failing).toMatchObject({ ok: false, error: { code: 'NAME_TAKEN' } });
    expect((failing as { error: { message: string } }).error.message).toMatch(/^operation 1 /);
    expect(h.rows('identities')).toEqual([]);
    const passing = h.one({
      op: 'batch',
      commands: [create('identities', 'i1', { name: 'a' }), create('identities', 'i2', { name: 'b' })],
    });
    expect(passing).toMatchObject({ ok: true, op: 'batch', results: [{ id: 'i1' }, { id: 'i2' }] });
  });

  it('gives identical databases on two nodes, and the same after snapshot and restore', async () => {
    const a = await Harness.create();
    const b = await Harness.create();
    const script: ModelCommand[] = [
      create('identities', 'i1', { name: 'alice', roleAttributes: ['staff', 'eu'] }),
      create('identities', 'i1', { name: 'dup' }),
      create('services', 's1', { name: 'web', roleAttributes: ['public'] }),
      { op: 'patch', collection: 'identities', id: 'i1', at: LATER, data: { roleAttributes: ['eu'] } },
      create('edge-router-policies', 'e1', { name: 'all', identityRoles: ['#all'], routerRoles: ['#all'] }),
    ];
    expect(a.run(...script)).toEqual(b.run(...script));
    for (const table of ['identities', 'services', 'edge_router_policies', 'entity_attributes', 'meta']) {
      expect(a.rows(table)).toEqual(b.rows(table));
    }
    const c = await Harness.create();
    c.sm.restore(a.sm.snapshot());
    for (const table of ['identities', 'services', 'edge_router_policies', 'entity_attributes', 'meta']) {
      expect(c.rows(table)).toEqual(a.rows(table));
    }
    expect(c.sm.model.appliedIndex).toBe(5);
  });
});

describe('model schema migrations', () => {
  it('migrates a database of version 2 to the newest: sorting by time reads an index', async () => {
    const v2 = await ModelDatabase.open(undefined, migrations.slice(0, 2));
    expect(v2.schemaVersion).toBe(2);
    v2.run(
      "INSERT INTO identities (id, name, type, created_at, updated_at) VALUES ('i1', 'a', 'Device', ?, ?)",
      [AT, AT],
    );
    const v3 = await ModelDatabase.open(v2.export());
    expect(v3.schemaVersion).toBe(migrations.at(-1)?.version);
    expect(v3.value('SELECT name FROM identities ORDER BY created_at, id')).toBe('a');
    const plan = v3
      .all('EXPLAIN QUERY PLAN SELECT id FROM identities ORDER BY created_at, id')
      .map((r) => String(r.detail));
    expect(plan.join(' ')).toMatch(/identities_by_created_at/);
  });

  it('removes the routers’ shared secret of version 11 (routers prove certificates only)', async () => {
    const v11 = await ModelDatabase.open(undefined, migrations.slice(0, 11));
    for (const [key, value] of [
      ['routers.secret', 'the-old-routers-secret'],
      ['auth.jwtKey', 'kept'],
    ] as const)
      v11.run('INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)', [key, value, AT]);
    const migrated = await ModelDatabase.open(v11.export());
    expect(migrated.schemaVersion).toBe(migrations.at(-1)?.version);
    expect(migrated.all('SELECT key, value FROM settings')).toEqual([{ key: 'auth.jwtKey', value: 'kept' }]);
  });

  it('migrates a database of the version before each migration (v0 → v1)', async () => {
    const v0 = await ModelDatabase.open(undefined, []);
    expect(v0.schemaVersion).toBe(0);
    const migrated = await ModelDatabase.open(v0.export());
    expect(migrated.schemaVersion).toBeGreaterThanOrEqual(1);
    expect(migrated.value("SELECT count(*) FROM sqlite_master WHERE name = 'identities'")).toBe(1);
  });
});
