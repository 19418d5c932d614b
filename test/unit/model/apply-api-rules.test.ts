/** Apply rules added with the API: idempotency keys, cluster settings, and the last admin. */
import { describe, expect, it } from 'vitest';
import {
  encodeCommand,
  type EncodeOptions,
  type ModelCommand,
  type SingleCommand,
} from '../../../core/model/commands.js';
import { ModelStateMachine } from '../../../core/model/state-machine.js';
import { readSetting } from '../../../core/model/settings.js';

const T0 = '2026-11-26T00:00:00.000Z';
const T1 = '2026-11-26T00:00:01.000Z';
const DAY_LATER = '2026-11-27T00:00:00.001Z';

async function machine() {
  const sm = await ModelStateMachine.create();
  let index = 0;
  const apply = (command: ModelCommand, options?: EncodeOptions) => {
    index++;
    return sm.apply([{ index, term: 1, data: encodeCommand(command, options) }], index)[0] as Record<
      string,
      unknown
    >;
  };
  const count = (table: string) => Number(sm.model.value(`SELECT count(*) FROM ${table}`));
  return { sm, apply, count };
}

const identity = (id: string, name: string, at = T0): SingleCommand => ({
  op: 'create',
  collection: 'identities',
  id,
  at,
  data: { name },
});

describe('idempotency keys', () => {
  it('applies a keyed write once and answers a retry (with a new id) with the first result', async () => {
    const { apply, count } = await machine();
    const first = apply(identity('i1', 'alice'), { idempotencyKey: 'k1', at: T0 });
    expect(first).toMatchObject({
      ok: true,
      op: 'create',
      collection: 'identities',
      id: 'i1',
      revision: 1,
      entity: { id: 'i1', name: 'alice', createdAt: T0, revision: 1 },
    });
    // The retry reached another node, which chose another id and timestamp.
    const retry = apply(identity('i2', 'alice', T1), { idempotencyKey: 'k1', at: T1 });
    expect(retry).toEqual({ ...first, replayed: true });
    expect(count('identities')).toBe(1);
  });

  it('replays a refusal too, so a retry cannot turn a refused write into an applied one', async () => {
    const { apply, count } = await machine();
    apply(identity('i1', 'alice'));
    const refused = apply(identity('i2', 'alice'), { idempotencyKey: 'k', at: T0 });
    expect(refused).toMatchObject({ ok: false, error: { code: 'NAME_TAKEN' } });
    apply({ op: 'delete', collection: 'identities', id: 'i1' });
    expect(apply(identity('i2', 'alice', T1), { idempotencyKey: 'k', at: T1 })).toMatchObject({
      ok: false,
      error: { code: 'NAME_TAKEN' },
      replayed: true,
    });
    expect(count('identities')).toBe(0);
  });

  it('forgets a key once its time is over, counted from the commands', async () => {
    const { apply, count } = await machine();
    apply(identity('i1', 'a'), { idempotencyKey: 'k', at: T0, idempotencyTtlMs: 86_400_000 });
    const later = apply(identity('i2', 'b', DAY_LATER), { idempotencyKey: 'k', at: DAY_LATER });
    expect(later).toMatchObject({ ok: true, id: 'i2' });
    expect(later).not.toHaveProperty('replayed');
    expect(count('identities')).toBe(2);
  });

  it('purges expired keys on the next keyed write', async () => {
    const { apply, count } = await machine();
    apply(identity('i1', 'a'), { idempotencyKey: 'old', at: T0, idempotencyTtlMs: 1000 });
    expect(count('idempotency_keys')).toBe(1);
    apply(identity('i2', 'b', DAY_LATER), { idempotencyKey: 'new', at: DAY_LATER });
    expect(count('idempotency_keys')).toBe(1);
  });

  it('keys a batch as one write', async () => {
    const { apply, count } = await machine();
    const batch: ModelCommand = { op: 'batch', commands: [identity('i1', 'a'), identity('i2', 'b')] };
    const first = apply(batch, { idempotencyKey: 'b', at: T0 });
    expect(apply(batch, { idempotencyKey: 'b', at: T1 })).toEqual({ ...first, replayed: true });
    expect(count('identities')).toBe(2);
  });

  it('refuses a malformed key as a bad command, identically', async () => {
    const { sm, count } = await machine();
    const bytes = new TextEncoder().encode(
      JSON.stringify({ v: 1, command: identity('i1', 'a'), idempotency: { key: '', at: T0, ttlMs: 1 } }),
    );
    expect(sm.apply([{ index: 1, term: 1, data: bytes }], 1)[0]).toMatchObject({
      ok: false,
      error: { code: 'INVALID' },
    });
    expect(count('identities')).toBe(0);
  });

  it('needs the time with a key', () => {
    expect(() => encodeCommand(identity('i1', 'a'), { idempotencyKey: 'k' })).toThrow(/time/);
  });
});

describe('settings', () => {
  it('sets, overwrites, and keeps an existing value with onlyIfAbsent', async () => {
    const { sm, apply } = await machine();
    expect(apply({ op: 'setSetting', key: 'k', value: 'v1', at: T0 })).toEqual({
      ok: true,
      op: 'setSetting',
      key: 'k',
      written: true,
    });
    expect(apply({ op: 'setSetting', key: 'k', value: 'v2', at: T1, onlyIfAbsent: true })).toMatchObject({
      written: false,
    });
    expect(readSetting(sm.model, 'k')).toBe('v1');
    apply({ op: 'setSetting', key: 'k', value: 'v3', at: T1 });
    expect(readSetting(sm.model, 'k')).toBe('v3');
    expect(readSetting(sm.model, 'missing')).toBeUndefined();
  });

  it('rolls a setting back with the batch it was in', async () => {
    const { sm, apply } = await machine();
    apply(identity('i1', 'taken'));
    const refused = apply({
      op: 'batch',
      commands: [{ op: 'setSetting', key: 'k', value: 'v', at: T0 }, identity('i2', 'taken')],
    });
    expect(refused).toMatchObject({ ok: false, error: { code: 'NAME_TAKEN' } });
    expect(readSetting(sm.model, 'k')).toBeUndefined();
  });

  it('survives a snapshot and restore', async () => {
    const { sm, apply } = await machine();
    apply({ op: 'setSetting', key: 'auth.jwtKey', value: 'secret', at: T0 });
    apply(identity('i1', 'a'), { idempotencyKey: 'k', at: T0 });
    const other = await ModelStateMachine.create();
    other.restore(sm.snapshot());
    expect(readSetting(other.model, 'auth.jwtKey')).toBe('secret');
    const retry = other.apply(
      [{ index: 9, term: 1, data: encodeCommand(identity('i9', 'a', T1), { idempotencyKey: 'k', at: T1 }) }],
      9,
    );
    expect(retry[0]).toMatchObject({ id: 'i1', replayed: true });
  });
});

describe('admins', () => {
  const admin = (id: string, username: string): ModelCommand => ({
    op: 'create',
    collection: 'admins',
    id,
    at: T0,
    data: { username, passwordHash: 'scrypt$16384$8$1$c2FsdA$aGFzaA' },
  });

  it('refuses to delete the last admin, identically on every node, but deletes any other', async () => {
    const { apply, count } = await machine();
    expect(apply(admin('a1', 'root'))).toMatchObject({ ok: true });
    expect(apply(admin('a2', 'ops'))).toMatchObject({ ok: true });
    expect(apply({ op: 'delete', collection: 'admins', id: 'a1' })).toMatchObject({ ok: true });
    expect(apply({ op: 'delete', collection: 'admins', id: 'a2' })).toMatchObject({
      ok: false,
      error: { code: 'IN_USE', message: expect.stringMatching(/last admin/) },
    });
    expect(count('admins')).toBe(1);
  });

  it('raises the auth epoch on a new password and on endSessions, not on other changes', async () => {
    const { sm, apply } = await machine();
    const epoch = (): number => Number(sm.model.value('SELECT auth_epoch FROM admins WHERE id = ?', ['a1']));
    apply(admin('a1', 'root'));
    expect(epoch()).toBe(1);
    apply({ op: 'patch', collection: 'admins', id: 'a1', at: T1, data: { tags: { team: 'ops' } } });
    expect(epoch()).toBe(1);
    const newHash = 'scrypt$16384$8$1$c2FsdA$b3RoZXI';
    apply({ op: 'patch', collection: 'admins', id: 'a1', at: T1, data: { passwordHash: newHash } });
    expect(epoch()).toBe(2);
    // The same hash again is no new password.
    apply({ op: 'patch', collection: 'admins', id: 'a1', at: T1, data: { passwordHash: newHash } });
    expect(epoch()).toBe(2);
    expect(apply({ op: 'endSessions', id: 'a1', at: T1 })).toMatchObject({
      ok: true,
      op: 'patch',
      collection: 'admins',
      revision: 5,
    });
    expect(epoch()).toBe(3);
    expect(apply({ op: 'endSessions', id: 'ghost', at: T1 })).toMatchObject({
      ok: false,
      error: { code: 'NOT_FOUND' },
    });
    // The epoch is no part of the admin's shape.
    expect(JSON.stringify(apply({ op: 'endSessions', id: 'a1', at: T1 }))).not.toContain('epoch');
  });
});

describe('idempotency keys bound to their request', () => {
  const create = (id: string, name: string): ModelCommand => identity(id, name);
  const keyed = (fingerprint?: string): EncodeOptions => ({
    idempotencyKey: 'k1',
    at: T0,
    ...(fingerprint ? { fingerprint } : {}),
  });
  const A = 'a'.repeat(64);
  const B = 'b'.repeat(64);

  it('replay the first result for the same request and refuse another, remembering the first', async () => {
    const { apply, count } = await machine();
    expect(apply(create('i1', 'one'), keyed(A))).toMatchObject({ ok: true, id: 'i1' });
    expect(apply(create('i2', 'one'), keyed(A))).toMatchObject({ ok: true, id: 'i1', replayed: true });
    expect(apply(create('i3', 'two'), keyed(B))).toMatchObject({
      ok: false,
      error: { code: 'IDEMPOTENCY_KEY_REUSED' },
    });
    expect(count('identities')).toBe(1);
    expect(apply(create('i4', 'one'), keyed(A))).toMatchObject({ ok: true, id: 'i1', replayed: true });
  });

  it('replay as before for entries and keys of earlier versions, which carry no fingerprint', async () => {
    const { apply } = await machine();
    expect(apply(create('i1', 'one'), keyed())).toMatchObject({ ok: true });
    expect(apply(create('i2', 'two'), keyed(B))).toMatchObject({ ok: true, id: 'i1', replayed: true });
    const other = await machine();
    expect(other.apply(create('i1', 'one'), keyed(A))).toMatchObject({ ok: true });
    expect(other.apply(create('i2', 'two'), keyed())).toMatchObject({ ok: true, id: 'i1', replayed: true });
  });
});

describe('config data against admin-supplied schemas', () => {
  const type = (id: string, schema: object, at = T0): ModelCommand => ({
    op: 'create',
    collection: 'config-types',
    id,
    at,
    data: { name: id, schema },
  });
  const config = (id: string, configTypeId: string, data: unknown): ModelCommand => ({
    op: 'create',
    collection: 'configs',
    id,
    at: T1,
    data: { name: id, configTypeId, data },
  });

  it('answers the same on a long-running node and on one restored from a snapshot, whatever $id says', async () => {
    const schema = (max: number) => ({
      $id: 'https://example.test/port',
      type: 'object',
      properties: { port: { type: 'integer', maximum: max } },
    });
    const long = await machine();
    expect(long.apply(type('ct1', schema(100)))).toMatchObject({ ok: true });
    expect(long.apply(config('c1', 'ct1', { port: 80 }))).toMatchObject({ ok: true });
    // Patched twice, and a second type with the same $id: each compiles on its own.
    long.apply({ op: 'patch', collection: 'config-types', id: 'ct1', at: T1, data: { schema: schema(200) } });
    expect(long.apply(config('c2', 'ct1', { port: 150 }))).toMatchObject({ ok: true });
    long.apply({ op: 'patch', collection: 'config-types', id: 'ct1', at: T1, data: { schema: schema(300) } });
    expect(long.apply(type('ct2', schema(50)))).toMatchObject({ ok: true });
    const restored = await machine();
    restored.sm.restore(long.sm.snapshot());
    for (const [id, typeId, port] of [
      ['c3', 'ct1', 250],
      ['c4', 'ct2', 40],
      ['c5', 'ct2', 60],
    ] as const) {
      const onLong = long.apply(config(id, typeId, { port }));
      const onRestored = restored.apply(config(id, typeId, { port }));
      expect({ id, ...onLong }).toEqual({ id, ...onRestored });
    }
    expect(long.apply(config('c6', 'ct1', { port: 250 }))).toMatchObject({ ok: true });
  });

  it('matches patterns in linear time, so a catastrophic one cannot hang the nodes', async () => {
    const { apply } = await machine();
    apply(type('re', { type: 'object', properties: { name: { type: 'string', pattern: '^(a+)+$' } } }));
    // A backtracking engine takes 2^40 steps on this; RE2 answers at once.
    expect(apply(config('evil', 're', { name: `${'a'.repeat(40)}!` }))).toMatchObject({
      ok: false,
      error: { code: 'INVALID', errors: [{ field: 'data.name' }] },
    });
    expect(apply(config('fine', 're', { name: 'aaaa' }))).toMatchObject({ ok: true });
    // A pattern RE2 cannot run makes the type itself unusable: refused when it is written.
    expect(
      apply(type('backref', { type: 'object', properties: { name: { type: 'string', pattern: '(a)\\1' } } })),
    ).toMatchObject({
      ok: false,
      error: {
        code: 'INVALID',
        message: expect.stringMatching(/unusable schema/),
        errors: [{ field: 'schema' }],
      },
    });
  });

  it('refuses a schema whose validation could multiply without bound, when the type is written', async () => {
    const { apply } = await machine();
    const definitions: Record<string, object> = {};
    for (let i = 0; i < 40; i++)
      definitions[`d${i}`] = {
        anyOf: [{ $ref: `#/definitions/d${i + 1}` }, { $ref: `#/definitions/d${i + 1}` }],
      };
    definitions.d40 = { type: 'string', minLength: 2 };
    // 2^40 evaluations of one string: refused at once, with the reason on the schema field.
    expect(apply(type('doubling', { $ref: '#/definitions/d0', definitions }))).toMatchObject({
      ok: false,
      error: {
        code: 'INVALID',
        errors: [{ field: 'schema', message: expect.stringMatching(/more than 4096/) }],
      },
    });
    expect(apply(type('cycle', { $ref: '#' }))).toMatchObject({
      ok: false,
      error: { errors: [{ field: 'schema', message: expect.stringMatching(/never ends/) }] },
    });
  });

  it('refuses configs of a costly type stored before the bounds existed, without running it', async () => {
    const { sm, apply } = await machine();
    expect(apply(type('old', { type: 'object' }))).toMatchObject({ ok: true });
    // As an earlier version would have stored it: straight into the table.
    sm.model.run('UPDATE config_types SET schema = ? WHERE id = ?', [JSON.stringify({ $ref: '#' }), 'old']);
    expect(apply(config('c1', 'old', { a: 1 }))).toMatchObject({
      ok: false,
      error: {
        code: 'INVALID',
        message: expect.stringMatching(/config type old has an unusable schema: .*never ends/),
      },
    });
  });

  it('checks uniqueItems in linear time and reports at most 20 errors', async () => {
    const { apply } = await machine();
    apply(
      type('set', {
        type: 'object',
        properties: {
          items: { type: 'array', uniqueItems: true },
          ports: { type: 'array', items: { type: 'integer' } },
        },
      }),
    );
    // 60 000 distinct objects: Ajv's pairwise check takes 1.8e9 comparisons; hashing takes 60 000.
    const many = Array.from({ length: 60_000 }, (_, i) => ({ n: i }));
    expect(apply(config('big', 'set', { items: many }))).toMatchObject({ ok: true });
    // Equal as JSON values, whatever the key order: a duplicate.
    expect(
      apply(config('dup', 'set', { items: [{ a: 1, b: [2] }, { x: 0 }, { b: [2], a: 1 }] })),
    ).toMatchObject({
      ok: false,
      error: {
        errors: [
          { field: 'data.items', message: 'must NOT have duplicate items (items ## 0 and 2 are identical)' },
        ],
      },
    });
    expect(apply(config('distinct', 'set', { items: [1, '1', [1], { 1: 1 }, null, true] }))).toMatchObject({
      ok: true,
    });
    const bad = apply(config('bad', 'set', { ports: Array.from({ length: 500 }, () => 'x') })) as {
      error: { errors: { field: string; message: string }[] };
    };
    expect(bad.error.errors).toHaveLength(21);
    expect(bad.error.errors.at(-1)).toEqual({ field: 'data', message: 'and 480 more errors' });
  });
});
