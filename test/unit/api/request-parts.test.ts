/** Pure request helpers: headers, patch schemas, the event ring, the first admin. */
import { describe, expect, it } from 'vitest';
import { firstAdminCommand } from '../../../core/api/bootstrap.js';
import { EventLog } from '../../../core/api/events.js';
import { ApiProblem } from '../../../core/api/problem.js';
import { createSchema, listQuerySchema, patchSchema } from '../../../contract/index.js';
import { batchCommand, idempotencyKey, ifMatchRevision } from '../../../core/api/writes.js';
import { ModelError } from '../../../core/model/errors.js';
import { verifyPassword } from '../../../core/model/passwords.js';

const AT = '2026-01-01T00:00:00.000Z';

describe('headers', () => {
  it('If-Match takes a revision, quoted, weak or bare; * means any', () => {
    expect(ifMatchRevision('"3"')).toBe(3);
    expect(ifMatchRevision('W/"12"')).toBe(12);
    expect(ifMatchRevision('7')).toBe(7);
    expect(ifMatchRevision('*')).toBeUndefined();
    expect(ifMatchRevision(undefined)).toBeUndefined();
    for (const bad of ['"0"', 'abc', '"1", "2"', '-1'])
      expect(() => ifMatchRevision(bad)).toThrow(ApiProblem);
  });

  it('Idempotency-Key is visible ASCII up to 255 characters', () => {
    expect(idempotencyKey('retry-1_ABC:x')).toBe('retry-1_ABC:x');
    expect(idempotencyKey(undefined)).toBeUndefined();
    for (const bad of ['', 'a b', 'x'.repeat(256), 'é'])
      expect(() => idempotencyKey(bad)).toThrow(ApiProblem);
  });
});

describe('schemas', () => {
  it('a patch schema fills no defaults and refuses unknown fields', () => {
    expect(patchSchema('services').parse({ name: 'x' })).toEqual({ name: 'x' });
    expect(patchSchema('services').safeParse({ nope: 1 }).success).toBe(false);
    expect(createSchema('services').parse({ name: 'x' })).toMatchObject({
      encryptionRequired: true,
      tags: {},
    });
  });

  it('an admin is created with a password, never a hash', () => {
    expect(createSchema('admins').safeParse({ username: 'a', password: 'long enough' }).success).toBe(true);
    expect(createSchema('admins').safeParse({ username: 'a', passwordHash: 'scrypt$x' }).success).toBe(false);
  });

  it('list queries coerce numbers and refuse unknown parameters', () => {
    expect(listQuerySchema.parse({ limit: '10', minIndex: '5' })).toEqual({ limit: 10, minIndex: 5 });
    expect(listQuerySchema.safeParse({ limit: '1001' }).success).toBe(false);
    expect(listQuerySchema.safeParse({ page: '1' }).success).toBe(false);
  });
});

describe('batch commands', () => {
  it('build every operation, with field errors naming the operation', async () => {
    const batch = await batchCommand(
      [
        { op: 'create', collection: 'identities', id: 'i1', data: { name: 'a' } },
        { op: 'patch', collection: 'identities', id: 'i1', data: { name: 'b' }, ifRevision: 1 },
        { op: 'delete', collection: 'identities', id: 'i1' },
      ],
      AT,
    );
    expect(batch.commands.map((c) => c.op)).toEqual(['create', 'patch', 'delete']);
    const err = await batchCommand([{ op: 'create', collection: 'routers', data: { cost: 'x' } }], AT).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ModelError);
    expect((err as ModelError).errors.map((e) => e.field)).toEqual(
      expect.arrayContaining(['operations.0.data.name', 'operations.0.data.cost']),
    );
  });
});

describe('the first admin', () => {
  it('is the admin with a hashed password, and no signing secret', async () => {
    const command = await firstAdminCommand({ username: 'root', password: 'pw for root' });
    expect(command.op).toBe('batch');
    if (command.op !== 'batch') return;
    expect(command.commands).toHaveLength(1);
    const [admin] = command.commands;
    expect(admin).toMatchObject({ op: 'create', collection: 'admins', data: { username: 'root' } });
    const hash = (admin as unknown as { data: { passwordHash: string } }).data.passwordHash;
    expect(await verifyPassword('pw for root', hash)).toBe(true);
    expect(JSON.stringify(command)).not.toContain('pw for root');
  });
});

describe('EventLog', () => {
  const entity = (index: number) =>
    ({
      kind: 'entity',
      op: 'create',
      collection: 'identities',
      id: `e${index}`,
      revision: 1,
      index,
    }) as const;

  it('returns events after an index and tells when the ring dropped some of them', () => {
    const log = new EventLog(3);
    for (let i = 1; i <= 5; i++) log.push(entity(i));
    expect(log.since(3).data.map((e) => e.index)).toEqual([4, 5]);
    expect(log.since(3).truncated).toBe(false);
    expect(log.since(0).data.map((e) => e.index)).toEqual([3, 4, 5]);
    expect(log.since(0).truncated).toBe(true);
    expect(log.since(5)).toMatchObject({ data: [], latestIndex: 5 });
    expect(log.since(3, 1).data.map((e) => e.index)).toEqual([4]);
    expect(log.since(0, 0).data).toEqual([]);
  });

  it('tells subscribers of each event, in order, with a sequence number', () => {
    const log = new EventLog();
    const seen: number[] = [];
    const stop = log.subscribe((e) => seen.push(e.seq));
    log.push(entity(1));
    log.push(entity(1));
    stop();
    log.push(entity(2));
    expect(seen).toEqual([1, 2]);
  });
});
