/**
 * Lists and gets over rows written straight into the tables: what each collection shows, paging,
 * sorting, filtering (checked against an in-memory evaluation of the same filter), injection
 * attempts, and the admin's password hash, which no query may return.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';

import type { ModelDatabase } from '../../../core/model/database.js';
import type { Collection } from '../../../core/model/entities.js';
import {
  FilterError,
  printFilter,
  type CompareOp,
  type FilterNode,
  type LiteralValue,
} from '../../../core/model/filter/index.js';
import {
  DEFAULT_LIMIT,
  getEntity,
  listEntities,
  MAX_LIMIT,
  QueryError,
  queryCollections,
  type ListOptions,
} from '../../../core/model/queries.js';
import {
  ADMIN_HASH,
  at,
  insertIdentity,
  insertOneOfEach,
  insertRouter,
  insertRow,
  openModel,
  type IdentityFixture,
} from './query-fixtures.js';

const identities: IdentityFixture[] = [
  {
    id: 'i01',
    name: 'alice',
    type: 'User',
    roleAttributes: ['staff', 'eu'],
    defaultHostingCost: 0,
    createdAt: at(1),
  },
  {
    id: 'i02',
    name: 'bob',
    type: 'User',
    roleAttributes: ['staff'],
    defaultHostingCost: 5,
    createdAt: at(2),
  },
  {
    id: 'i03',
    name: 'carol',
    type: 'User',
    roleAttributes: ['eu', 'admin'],
    defaultHostingCost: 5,
    createdAt: at(3),
  },
  { id: 'i04', name: 'dave', type: 'Device', roleAttributes: [], defaultHostingCost: 10, createdAt: at(4) },
  {
    id: 'i05',
    name: 'eve',
    type: 'Device',
    roleAttributes: ['guest'],
    defaultHostingCost: 1,
    createdAt: at(5),
  },
  {
    id: 'i06',
    name: 'frank',
    type: 'Service',
    roleAttributes: ['web', 'eu'],
    defaultHostingCost: 5,
    createdAt: at(6),
  },
  {
    id: 'i07',
    name: 'grace',
    type: 'Router',
    roleAttributes: ['staff', 'web'],
    defaultHostingCost: 2,
    createdAt: at(7),
  },
  { id: 'i08', name: '<script>alert(1)</script>', type: 'Device', defaultHostingCost: 0, createdAt: at(8) },
  { id: 'i09', name: 'Zoë', type: 'User', roleAttributes: ['東京'], defaultHostingCost: 3, createdAt: at(9) },
  {
    id: 'i10',
    name: '東京-gw',
    type: 'Device',
    roleAttributes: ['edge'],
    defaultHostingCost: 3,
    createdAt: at(10),
  },
  { id: 'i11', name: 'x" or 1=1 --', type: 'Device', defaultHostingCost: 0, createdAt: at(11) },
  {
    id: 'i12',
    name: "'; DROP TABLE identities; --",
    type: 'Device',
    defaultHostingCost: 7,
    createdAt: at(12),
  },
];

let db: ModelDatabase;

beforeAll(async () => {
  db = await openModel();
  db.transaction(() => {
    for (const identity of identities) insertIdentity(db, identity);
    // A router whose id and attribute collide with an identity's: anyOf must keep entity types apart.
    insertRouter(db, { id: 'i04', name: 'collider', roleAttributes: ['staff'] });
    insertRouter(db, { id: 'r1', name: 'edge-a', roleAttributes: ['public'], cost: 3, disabled: true });
    insertRouter(db, { id: 'r2', name: 'edge-b', roleAttributes: ['public', 'eu'], cost: 1 });
  });
});

const list = (collection: Collection, options: ListOptions = {}) => listEntities(db, collection, options);
const ids = (collection: Collection, options: ListOptions = {}) =>
  list(collection, { limit: MAX_LIMIT, ...options }).rows.map((r) => r.id);
const names = (options: ListOptions) =>
  list('identities', { limit: MAX_LIMIT, ...options }).rows.map((r) => r.name);

/** Runs `fn`, which must throw an error of `type`, and returns it. */
function thrown<E extends Error>(type: new (...args: never[]) => E, fn: () => unknown): E {
  try {
    fn();
  } catch (e) {
    if (e instanceof type) return e;
    throw e;
  }
  throw new Error(`expected a ${type.name}`);
}

describe('what each collection shows', () => {
  let all: ModelDatabase;
  beforeAll(async () => {
    all = await openModel();
    insertOneOfEach(all);
  });

  it('returns rows with API field names, JSON parsed and booleans as booleans', () => {
    const one = (c: Collection) => listEntities(all, c).rows;
    const stamps = (n: number) => ({ createdAt: at(n), updatedAt: at(n), revision: 1, tags: {} });
    expect(one('identities')).toEqual([
      {
        id: 'id-1',
        name: 'laptop',
        type: 'Device',
        roleAttributes: ['staff'],
        defaultHostingPrecedence: 'default',
        defaultHostingCost: 0,
        ...stamps(0),
        tags: { site: 'hq' },
      },
    ]);
    expect(one('services')).toEqual([
      {
        id: 'svc-1',
        name: 'wiki',
        roleAttributes: ['web'],
        configs: ['cfg-1'],
        encryptionRequired: true,
        terminatorStrategy: 'smartrouting',
        ...stamps(0),
      },
    ]);
    expect(one('routers')).toEqual([
      {
        id: 'er-1',
        name: 'edge-1',
        roleAttributes: ['public'],
        cost: 5,
        noTraversal: false,
        disabled: false,
        tunnelerEnabled: true,
        ...stamps(0),
      },
    ]);
    expect(one('terminators')).toEqual([
      {
        id: 'term-1',
        serviceId: 'svc-1',
        routerId: 'er-1',
        address: 'tcp:10.0.0.5:443',
        identityId: null,
        cost: 0,
        precedence: 'default',
        ...stamps(3),
      },
    ]);
    expect(one('service-policies')).toEqual([
      {
        id: 'sp-1',
        name: 'staff-dial-web',
        type: 'Dial',
        semantic: 'AllOf',
        identityRoles: ['#staff'],
        serviceRoles: ['#web'],
        postureCheckRoles: ['#mfa'],
        ...stamps(4),
      },
    ]);
    expect(one('edge-router-policies')).toEqual([
      {
        id: 'erp-1',
        name: 'all-public',
        semantic: 'AllOf',
        identityRoles: ['#all'],
        routerRoles: ['#public'],
        ...stamps(5),
      },
    ]);
    expect(one('service-edge-router-policies')).toEqual([
      {
        id: 'serp-1',
        name: 'web-public',
        semantic: 'AnyOf',
        serviceRoles: ['#web'],
        routerRoles: ['@er-1'],
        ...stamps(6),
      },
    ]);
    expect(one('config-types')).toEqual([
      { id: 'ct-1', name: 'intercept.v1', schema: { type: 'object' }, ...stamps(1) },
    ]);
    expect(one('configs')).toEqual([
      {
        id: 'cfg-1',
        name: 'wiki-intercept',
        configTypeId: 'ct-1',
        data: { addresses: ['wiki.internal'] },
        ...stamps(2),
      },
    ]);
    expect(one('posture-checks')).toEqual([
      {
        id: 'pc-1',
        name: 'mfa',
        type: 'MFA',
        roleAttributes: ['mfa'],
        params: { timeoutSeconds: 300 },
        ...stamps(7),
      },
    ]);
    expect(one('admins')).toEqual([{ id: 'adm-1', username: 'admin', role: 'admin', ...stamps(8) }]);
  });

  it('maps every column of every table, except the admin password hash and auth epoch', () => {
    for (const [collection, spec] of Object.entries(queryCollections)) {
      const columns = all.all(`SELECT name FROM pragma_table_info(?)`, [spec.table]).map((r) => r.name);
      const mapped = Object.values(spec.fields).map((f) => f.column);
      const expected = collection === 'admins' ? [...mapped, 'password_hash', 'auth_epoch'] : mapped;
      expect(new Set(columns), collection).toEqual(new Set(expected));
    }
  });

  it('gets one entity by id, or nothing', () => {
    expect(getEntity(all, 'routers', 'er-1')).toEqual(listEntities(all, 'routers').rows[0]);
    expect(getEntity(all, 'routers', 'id-1')).toBeUndefined();
    expect(getEntity(all, 'identities', "' OR 1=1 --")).toBeUndefined();
  });

  it('never returns or matches on the admin password hash', () => {
    const shown = JSON.stringify([listEntities(all, 'admins'), getEntity(all, 'admins', 'adm-1')]);
    expect(shown).not.toContain(ADMIN_HASH);
    expect(shown).not.toContain('scrypt');
    for (const filter of [
      `passwordHash = "${ADMIN_HASH}"`,
      'password_hash contains "scrypt"',
      'anyOf(passwordHash) = "x"',
    ]) {
      expect(thrown(FilterError, () => listEntities(all, 'admins', { filter })).detail).toMatch(
        /^unknown field/,
      );
    }
    expect(thrown(QueryError, () => listEntities(all, 'admins', { sort: 'passwordHash' })).field).toBe(
      'passwordHash',
    );
    expect(listEntities(all, 'admins', { filter: 'username = "admin"' }).total).toBe(1);
  });

  it('refuses an unknown collection', () => {
    const error = thrown(QueryError, () => listEntities(all, 'sessions' as Collection));
    expect(error).toMatchObject({ code: 'UNKNOWN_COLLECTION', parameter: 'collection' });
    expect(() => getEntity(all, 'toString' as Collection, 'x')).toThrow(QueryError);
  });
});

describe('paging', () => {
  let many: ModelDatabase;
  beforeAll(async () => {
    many = await openModel();
    many.transaction(() => {
      for (let i = 0; i < 150; i++) {
        insertIdentity(many, {
          id: `id-${String(i).padStart(3, '0')}`,
          name: `n-${String(149 - i).padStart(3, '0')}`,
        });
      }
    });
  });

  it(`returns ${DEFAULT_LIMIT} rows by default, with the total and the paging applied`, () => {
    const page = listEntities(many, 'identities');
    expect(page).toMatchObject({ total: 150, limit: DEFAULT_LIMIT, offset: 0 });
    expect(page.rows).toHaveLength(DEFAULT_LIMIT);
    expect(page.rows[0]?.name).toBe('n-000');
  });

  it('pages through everything once, in a stable order', () => {
    const seen: unknown[] = [];
    for (let offset = 0; offset < 150; offset += 40) {
      const page = listEntities(many, 'identities', { limit: 40, offset, sort: 'type' });
      expect(page.total).toBe(150);
      seen.push(...page.rows.map((r) => r.id));
    }
    // Every identity has the same type: the tiebreak on id decides.
    expect(seen).toEqual([...seen].sort());
    expect(new Set(seen).size).toBe(150);
  });

  it('handles the edges: the maximum, the last page, past the end, limit 0', () => {
    expect(listEntities(many, 'identities', { limit: MAX_LIMIT }).rows).toHaveLength(150);
    expect(listEntities(many, 'identities', { offset: 140 }).rows).toHaveLength(10);
    expect(listEntities(many, 'identities', { offset: 150 })).toMatchObject({
      rows: [],
      total: 150,
      offset: 150,
    });
    expect(listEntities(many, 'identities', { offset: 10_000 })).toMatchObject({ rows: [], total: 150 });
    expect(listEntities(many, 'identities', { limit: 0 })).toMatchObject({ rows: [], total: 150, limit: 0 });
  });

  it.each([
    [{ limit: MAX_LIMIT + 1 }, 'limit', `limit must be a whole number from 0 to ${MAX_LIMIT}; got 1001`],
    [{ limit: -1 }, 'limit', 'limit must be a whole number from 0 to 1000; got -1'],
    [{ limit: 1.5 }, 'limit', 'limit must be a whole number from 0 to 1000; got 1.5'],
    [{ limit: Number.NaN }, 'limit', 'got NaN'],
    [{ offset: -1 }, 'offset', 'offset must be a whole number, 0 or more; got -1'],
    [{ offset: 0.5 }, 'offset', 'got 0.5'],
    [{ offset: Number.POSITIVE_INFINITY }, 'offset', 'got Infinity'],
  ])('refuses %j', (options, parameter, message) => {
    const error = thrown(QueryError, () => listEntities(many, 'identities', options));
    expect(error).toMatchObject({ code: 'INVALID_PAGING', parameter });
    expect(error.message).toContain(message);
  });
});

describe('sorting', () => {
  it('sorts by name by default, ascending', () => {
    expect(names({})).toEqual(identities.map((i) => i.name).sort());
  });

  it('sorts ascending, descending and on several fields, ties broken by id', () => {
    expect(names({ sort: '-name' })).toEqual(
      identities
        .map((i) => i.name)
        .sort()
        .reverse(),
    );
    expect(ids('identities', { sort: '+createdAt' })).toEqual(identities.map((i) => i.id));
    expect(ids('identities', { sort: '-createdAt' })).toEqual(identities.map((i) => i.id).reverse());
    expect(ids('identities', { sort: 'type,-defaultHostingCost' })).toEqual(expectedTypeThenCostDesc());
    // Equal cost: the tiebreak on id orders them, ascending, whatever the direction of the sort.
    expect(ids('identities', { sort: '-defaultHostingCost', filter: 'defaultHostingCost = 5' })).toEqual([
      'i02',
      'i03',
      'i06',
    ]);
    // Text sorts by code point: ' < '<' < 'd'.
    expect(ids('identities', { sort: ' type , name ', limit: 3 })).toEqual(['i12', 'i08', 'i04']);
  });

  it('adds no tiebreak when the sort already names id', () => {
    expect(ids('identities', { sort: '-id' })).toEqual(identities.map((i) => i.id).reverse());
  });

  it.each([
    ['nme', 'unknown sort field nme; sortable: id, name, type, defaultHostingPrecedence', 'nme'],
    ['roleAttributes', 'cannot sort on roleAttributes', 'roleAttributes'],
    ['-tags', 'cannot sort on tags', 'tags'],
    ['name,', 'sort has an empty field in "name,"', undefined],
    ['-', 'sort has an empty field', undefined],
    ['name,-name', 'sort names name twice', 'name'],
    ['name desc', 'unknown sort field name desc', 'name desc'],
    [
      'name; drop table identities',
      'unknown sort field name; drop table identities',
      'name; drop table identities',
    ],
    ['__proto__', 'unknown sort field __proto__', '__proto__'],
  ])('refuses sort %j', (sort, message, field) => {
    const error = thrown(QueryError, () => list('identities', { sort }));
    expect(error).toMatchObject({ code: 'INVALID_SORT', parameter: 'sort', field });
    expect(error.message).toContain(message);
    expect(db.value('SELECT count(*) FROM identities')).toBe(identities.length);
  });
});

/** Identities by type ascending, then cost descending, then id. */
function expectedTypeThenCostDesc(): string[] {
  return [...identities]
    .sort(
      (a, b) =>
        (a.type ?? '').localeCompare(b.type ?? '', 'en') ||
        (b.defaultHostingCost ?? 0) - (a.defaultHostingCost ?? 0) ||
        a.id.localeCompare(b.id),
    )
    .map((i) => i.id);
}

describe('filtering', () => {
  it('filters, sorts and pages together, the total counting every match', () => {
    const page = list('identities', { filter: 'type = "User"', sort: '-name', limit: 2, offset: 1 });
    expect(page.total).toBe(4);
    expect(page.rows.map((r) => r.name)).toEqual(['bob', 'alice']);
  });

  it('treats an empty or blank filter as none', () => {
    expect(list('identities', { filter: '' }).total).toBe(identities.length);
    expect(list('identities', { filter: ' \n ' }).total).toBe(identities.length);
  });

  it('uses every comparison', () => {
    expect(ids('identities', { filter: 'defaultHostingCost > 5', sort: 'id' })).toEqual(['i04', 'i12']);
    expect(ids('identities', { filter: 'defaultHostingCost >= 7', sort: 'id' })).toEqual(['i04', 'i12']);
    expect(ids('identities', { filter: 'defaultHostingCost < 1', sort: 'id' })).toEqual([
      'i01',
      'i08',
      'i11',
    ]);
    expect(ids('identities', { filter: 'defaultHostingCost <= 1', sort: 'id' })).toEqual([
      'i01',
      'i05',
      'i08',
      'i11',
    ]);
    expect(list('identities', { filter: 'type != "Device"' }).total).toBe(6);
    expect(ids('identities', { filter: 'name in ["bob", "eve", "nobody"]', sort: 'id' })).toEqual([
      'i02',
      'i05',
    ]);
    expect(ids('identities', { filter: 'name contains "ar"', sort: 'id' })).toEqual(['i03']);
    expect(ids('identities', { filter: 'createdAt > "2024-01-01T00:10:00Z"', sort: 'id' })).toEqual([
      'i11',
      'i12',
    ]);
    expect(ids('identities', { filter: `createdAt = "${at(3)}"` })).toEqual(['i03']);
    expect(list('identities', { filter: 'createdAt >= "2024-01-01"' }).total).toBe(identities.length);
    expect(ids('routers', { filter: 'disabled = true' })).toEqual(['r1']);
    expect(ids('routers', { filter: 'disabled = false and cost < 3', sort: 'id' })).toEqual(['i04', 'r2']);
  });

  it('finds entities by role attribute through entity_attributes, one entity type at a time', () => {
    expect(ids('identities', { filter: 'anyOf(roleAttributes) = "staff"', sort: 'id' })).toEqual([
      'i01',
      'i02',
      'i07',
    ]);
    expect(ids('identities', { filter: 'anyOf(roleAttributes) in ["admin", "guest"]', sort: 'id' })).toEqual([
      'i03',
      'i05',
    ]);
    expect(
      ids('identities', { filter: 'not anyOf(roleAttributes) = "staff" and type = "User"', sort: 'id' }),
    ).toEqual(['i03', 'i09']);
    expect(ids('routers', { filter: 'anyOf(roleAttributes) = "staff"' })).toEqual(['i04']);
    expect(ids('routers', { filter: 'anyOf(roleAttributes) = "eu"' })).toEqual(['r2']);

    const plan = db
      .all(
        'EXPLAIN QUERY PLAN SELECT count(*) FROM identities e WHERE e.id IN (SELECT ea.entity_id FROM entity_attributes ea WHERE ea.entity_type = ? AND ea.attribute = ?)',
        ['identity', 'staff'],
      )
      .map((r) => String(r.detail))
      .join('\n');
    expect(plan).toContain(
      'USING COVERING INDEX entity_attributes_by_attribute (entity_type=? AND attribute=?)',
    );
  });

  it('finds policies and services by the entries of their JSON lists', async () => {
    const all = await openModel();
    insertOneOfEach(all);
    insertRow(all, 'service_policies', {
      id: 'sp-2',
      name: 'bind',
      type: 'Bind',
      identity_roles: ['@id-1'],
      service_roles: ['#all'],
      created_at: at(9),
      updated_at: at(9),
    });
    const policies = (filter: string) =>
      listEntities(all, 'service-policies', { filter, sort: 'id' }).rows.map((r) => r.id);
    expect(policies('anyOf(identityRoles) = "#staff"')).toEqual(['sp-1']);
    expect(policies('anyOf(identityRoles) in ["#staff", "@id-1"]')).toEqual(['sp-1', 'sp-2']);
    expect(policies('anyOf(serviceRoles) = "#all" or anyOf(postureCheckRoles) = "#mfa"')).toEqual([
      'sp-1',
      'sp-2',
    ]);
    expect(policies('not anyOf(postureCheckRoles) = "#mfa"')).toEqual(['sp-2']);
    expect(listEntities(all, 'services', { filter: 'anyOf(configs) = "cfg-1"' }).total).toBe(1);
    expect(listEntities(all, 'posture-checks', { filter: 'anyOf(roleAttributes) = "mfa"' }).total).toBe(1);
    expect(
      listEntities(all, 'terminators', { filter: 'serviceId = "svc-1" and routerId = "er-1"' }).total,
    ).toBe(1);
  });

  it('treats a NULL column as a value: = null, != and not agree', async () => {
    const all = await openModel();
    insertOneOfEach(all);
    insertRow(all, 'terminators', {
      id: 'term-2',
      service_id: 'svc-1',
      router_id: 'er-1',
      address: 'tcp:10.0.0.6:443',
      identity_id: 'id-1',
      created_at: at(9),
      updated_at: at(9),
    });
    const terminators = (filter: string) =>
      listEntities(all, 'terminators', { filter }).rows.map((r) => r.id);
    expect(terminators('identityId = null')).toEqual(['term-1']);
    expect(terminators('identityId != null')).toEqual(['term-2']);
    expect(terminators('identityId != "id-1"')).toEqual(['term-1']);
    expect(terminators('not identityId = "id-1"')).toEqual(['term-1']);
    expect(terminators('not identityId contains "id"')).toEqual(['term-1']);
    expect(terminators('not identityId in ["id-1"]')).toEqual(['term-1']);
  });

  it('returns HTML and unicode as stored, and matches them exactly', () => {
    const html = list('identities', { filter: 'name = "<script>alert(1)</script>"' });
    expect(html.rows.map((r) => r.name)).toEqual(['<script>alert(1)</script>']);
    expect(list('identities', { filter: 'name contains "<script>"' }).total).toBe(1);
    expect(ids('identities', { filter: 'name = "Zoë"' })).toEqual(['i09']);
    expect(ids('identities', { filter: 'name = "Zoe"' })).toEqual([]);
    expect(ids('identities', { filter: 'name contains "\\u6771"' })).toEqual(['i10']);
    expect(ids('identities', { filter: 'anyOf(roleAttributes) = "東京"' })).toEqual(['i09']);
  });

  it('keeps injection attempts harmless: parameters that match only what they spell, or errors', () => {
    const count = () => db.value('SELECT count(*) FROM identities');
    expect(ids('identities', { filter: String.raw`name = "x\" or 1=1 --"` })).toEqual(['i11']);
    expect(ids('identities', { filter: `name = "'; DROP TABLE identities; --"` })).toEqual(['i12']);
    expect(ids('identities', { filter: `name = "' OR '1'='1"` })).toEqual([]);
    expect(ids('identities', { filter: 'name contains "%"' })).toEqual([]);
    expect(ids('identities', { filter: 'name contains "_"' })).toEqual([]);
    expect(count()).toBe(identities.length);

    for (const filter of [
      'name; drop table identities = 1',
      'name = "x"; DROP TABLE identities',
      'name = "x" -- comment',
      'name = "x" /* c */',
      '"name" = "x"',
      '`name` = "x"',
      'name) or (1 = 1',
      'name = "x" or 1 = 1',
      'identities.name = "x"',
      'name = x or 1',
    ]) {
      expect(() => list('identities', { filter }), filter).toThrow(FilterError);
    }
    expect(count()).toBe(identities.length);
    expect(db.value("SELECT count(*) FROM sqlite_master WHERE name = 'identities'")).toBe(1);
  });

  it('runs the largest filter allowed', () => {
    const terms: string[] = [];
    for (let i = 0; [...terms, `name = "n${i}"`].join(' or ').length <= 4096; i++)
      terms.push(`name = "n${i}"`);
    const filter = terms.join(' or ');
    expect(filter.length).toBeGreaterThan(4000);
    expect(list('identities', { filter }).total).toBe(0);
    const wide = `defaultHostingCost in [${Array.from({ length: 1000 }, (_, i) => i).join(',')}]`;
    expect(list('identities', { filter: wide }).total).toBe(identities.length);
  });
});

// ---------------------------------------------------------------------------------------------
// The same filters evaluated in memory: the SQL must agree on every generated filter.

type Identity = (typeof identities)[number];
const stringFields = ['id', 'name', 'type'] as const;
const textValues = [
  ...identities.flatMap((i) => [i.id, i.name, i.type ?? '']),
  'a',
  'e',
  'User',
  'zzz',
  '',
  'i1',
];
const attributeValues = ['staff', 'eu', 'web', 'admin', 'guest', 'edge', '東京', 'nobody'];
const typeValues = ['User', 'Device', 'Router', 'Service', 'user'];
const costs = [-1, 0, 1, 2.5, 3, 5, 7, 10, 11];
const dates = [at(0), at(3), at(6), at(6).slice(0, 16), at(12), at(13), '2024-01-01'];

const leaf = <T extends LiteralValue>(name: string, anyOf: boolean, op: CompareOp, value: T): FilterNode => ({
  kind: 'compare',
  field: { name, anyOf, position: 0 },
  op,
  opPosition: 0,
  value: { value, position: 0 },
});
const op = fc.constantFrom<CompareOp>('=', '!=', '<', '>', '<=', '>=');
const identityFilter: fc.Arbitrary<FilterNode> = fc.letrec<{ node: FilterNode }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small' },
    fc.oneof(
      fc
        .tuple(fc.constantFrom(...stringFields), op, fc.constantFrom(...textValues))
        .map(([f, o, v]) => leaf(f, false, o, v)),
      fc.tuple(op, fc.constantFrom(...costs)).map(([o, v]) => leaf('defaultHostingCost', false, o, v)),
      fc.tuple(op, fc.constantFrom(...dates)).map(([o, v]) => leaf('createdAt', false, o, v)),
      fc.constantFrom(...attributeValues).map((v) => leaf('roleAttributes', true, '=', v)),
      fc
        .tuple(fc.constantFrom(...stringFields), fc.constantFrom('a', 'e', 'o', 'ob', '東', '"', "'", '<'))
        .map(([f, v]): FilterNode => ({
          kind: 'contains',
          field: { name: f, anyOf: false, position: 0 },
          opPosition: 0,
          value: { value: v, position: 0 },
        })),
      fc
        .oneof(
          fc.tuple(
            fc.constant(true),
            fc.array(fc.constantFrom(...attributeValues), { minLength: 1, maxLength: 3 }),
          ),
          fc.tuple(
            fc.constant(false),
            fc.array(fc.constantFrom(...typeValues), { minLength: 1, maxLength: 3 }),
          ),
        )
        .map(([anyOf, vs]): FilterNode => ({
          kind: 'in',
          field: { name: anyOf ? 'roleAttributes' : 'type', anyOf, position: 0 },
          opPosition: 0,
          values: vs.map((value) => ({ value, position: 0 })),
        })),
    ),
    tie('node').map((operand): FilterNode => ({ kind: 'not', operand })),
    fc.tuple(tie('node'), tie('node')).map(([left, right]): FilterNode => ({ kind: 'and', left, right })),
    fc.tuple(tie('node'), tie('node')).map(([left, right]): FilterNode => ({ kind: 'or', left, right })),
  ),
})).node;

function compare(a: string | number, op: CompareOp, b: string | number): boolean {
  switch (op) {
    case '=':
      return a === b;
    case '!=':
      return a !== b;
    case '<':
      return a < b;
    case '>':
      return a > b;
    case '<=':
      return a <= b;
    case '>=':
      return a >= b;
  }
}

/** The identity's value of `field` as the filter sees it (dates normalised as the compiler does). */
function fieldOf(i: Identity, field: string): string | number {
  if (field === 'defaultHostingCost') return i.defaultHostingCost ?? 0;
  if (field === 'createdAt') return i.createdAt ?? at(0);
  if (field === 'type') return i.type ?? 'Device';
  return field === 'id' ? i.id : i.name;
}

/** A filter value as the compiler binds it: dates in the stored form (UTC, milliseconds). */
function normalised(field: string, v: LiteralValue): string | number {
  if (field !== 'createdAt') return v as string | number;
  const text = String(v);
  return new Date(text.includes('T') && !text.endsWith('Z') ? `${text}Z` : text).toISOString();
}

function matches(i: Identity, node: FilterNode): boolean {
  switch (node.kind) {
    case 'and':
      return matches(i, node.left) && matches(i, node.right);
    case 'or':
      return matches(i, node.left) || matches(i, node.right);
    case 'not':
      return !matches(i, node.operand);
    case 'compare':
      if (node.field.anyOf) return (i.roleAttributes ?? []).includes(node.value.value as string);
      return compare(fieldOf(i, node.field.name), node.op, normalised(node.field.name, node.value.value));
    case 'contains':
      return String(fieldOf(i, node.field.name)).includes(node.value.value as string);
    case 'in':
      if (node.field.anyOf)
        return node.values.some((v) => (i.roleAttributes ?? []).includes(v.value as string));
      return node.values.some((v) => fieldOf(i, node.field.name) === v.value);
  }
}

describe('filters agree with an in-memory evaluation', () => {
  it('selects exactly the identities the filter describes', () => {
    fc.assert(
      fc.property(identityFilter, (tree) => {
        const filter = printFilter(tree);
        const result = list('identities', { filter, sort: 'id', limit: MAX_LIMIT });
        const expected = identities.filter((i) => matches(i, tree)).map((i) => i.id);
        expect(
          result.rows.map((r) => r.id),
          filter,
        ).toEqual(expected);
        expect(result.total).toBe(expected.length);
      }),
      { numRuns: 300 },
    );
  });
});
