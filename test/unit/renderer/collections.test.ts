/**
 * The UI's collection table, the forms and list queries generated from it, and the hash routes.
 * The table is derived from the contract (contract/collections.ts), as the model's and the API's
 * are; the first tests check that the three agree.
 */
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { pageTitle } from '../../../renderer/src/router/page-title.js';
import { createSchema } from '../../../contract/index.js';
import { collectionNames as coreCollectionNames } from '../../../core/model/entities.js';
import { queryCollections } from '../../../core/model/queries.js';
import { collectionNames } from '../../../renderer/src/api/types.js';
import {
  bookkeepingFields,
  collectionDescriptions,
  collectionOrder,
  describeCollection,
  listColumns,
} from '../../../renderer/src/model/collections.js';
import {
  changedFields,
  formSchema,
  initialValues,
  splitList,
  type FormValues,
} from '../../../renderer/src/model/entity-form.js';
import { formatCell } from '../../../renderer/src/model/format.js';
import {
  combinedFilter,
  goToPage,
  initialTableState,
  listQuery,
  pageInfo,
  toggleSort,
} from '../../../renderer/src/model/list-query.js';
import { formatRoute, parseRoute, type Route } from '../../../renderer/src/router/routes.js';

/** The schema inside `.default(…)` / `.optional()` wrappers. */
function bare(schema: z.ZodType): z.ZodType {
  let current = schema;
  while (
    current instanceof z.ZodDefault ||
    current instanceof z.ZodOptional ||
    current instanceof z.ZodNullable
  ) {
    current = current.unwrap() as z.ZodType;
  }
  return current;
}

describe('the collection table is in step with the model and the API', () => {
  it('names the same collections as core/model', () => {
    expect([...collectionNames].sort()).toEqual([...coreCollectionNames].sort());
    expect([...collectionOrder].sort()).toEqual([...coreCollectionNames].sort());
  });

  it.each(coreCollectionNames)('%s: the form has exactly the fields a create request takes', (c) => {
    const apiFields = Object.keys(createSchema(c).shape).sort();
    expect(
      describeCollection(c)
        .fields.map((f) => f.name)
        .sort(),
    ).toEqual(apiFields);
  });

  it.each(coreCollectionNames)('%s: enum options match the API’s', (c) => {
    const shape = createSchema(c).shape as Record<string, z.ZodType>;
    for (const field of describeCollection(c).fields.filter((f) => f.kind === 'enum')) {
      const schema = bare(shape[field.name] as z.ZodType);
      expect(schema, field.name).toBeInstanceOf(z.ZodEnum);
      expect([...(field.options ?? [])].sort(), field.name).toEqual(
        [...(schema as z.ZodEnum).options].sort(),
      );
    }
  });

  it.each(coreCollectionNames)('%s: sortable fields are the ones the API sorts on', (c) => {
    const queryFields = queryCollections[c].fields as Record<string, { sortable?: boolean }>;
    const description = describeCollection(c);
    for (const field of [...description.fields, ...bookkeepingFields]) {
      if (field.kind === 'password') continue;
      expect(Boolean(field.sortable), `${c}.${field.name}`).toBe(Boolean(queryFields[field.name]?.sortable));
    }
    expect(queryCollections[c].defaultSort).toBe(description.defaultSort);
    expect(Object.keys(queryFields)).toContain(description.searchField);
  });

  it.each(coreCollectionNames)('%s: a new form filled in minimally makes a body the API accepts', (c) => {
    const values: FormValues = initialValues(c);
    for (const field of describeCollection(c).fields) {
      if (values[field.name] !== '' || field.optional) continue;
      if (field.kind === 'string' || field.kind === 'ref') values[field.name] = `${field.name}-1`;
      if (field.kind === 'enum') values[field.name] = field.options?.[0] ?? '';
      if (field.kind === 'password') values[field.name] = 'long enough secret';
    }
    const parsed = formSchema(c, 'create').safeParse(values);
    expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
    expect(createSchema(c).safeParse(parsed.data).success).toBe(true);
  });

  it('every list has columns, and every column is a field of the collection', () => {
    for (const c of coreCollectionNames) {
      const columns = listColumns(c);
      expect(columns.length).toBeGreaterThan(1);
      const known = new Set(Object.keys(queryCollections[c].fields));
      for (const column of columns) expect(known.has(column.name), `${c}.${column.name}`).toBe(true);
    }
  });
});

describe('entity forms', () => {
  const schema = formSchema('service-policies', 'create');

  it('turns typed text into a request body', () => {
    const result = schema.parse({
      name: '  web dial  ',
      type: 'Dial',
      semantic: 'AnyOf',
      identityRoles: '#staff, @id-1\n#ops',
      serviceRoles: '#all',
      postureCheckRoles: '',
      tags: '{"owner": "it"}',
    });
    expect(result).toEqual({
      name: 'web dial',
      type: 'Dial',
      semantic: 'AnyOf',
      identityRoles: ['#staff', '@id-1', '#ops'],
      serviceRoles: ['#all'],
      postureCheckRoles: [],
      tags: { owner: 'it' },
    });
  });

  it('reports each bad field by name', () => {
    const result = schema.safeParse({
      name: '',
      type: 'Both',
      semantic: 'AllOf',
      identityRoles: 'staff',
      serviceRoles: '#all, #web',
      postureCheckRoles: '',
      tags: '[1]',
    });
    expect(result.success).toBe(false);
    const byField = Object.fromEntries(
      (result.error?.issues ?? []).map((i) => [String(i.path[0]), i.message]),
    );
    expect(byField).toEqual({
      name: 'Required',
      type: 'Choose one of Dial, Bind',
      identityRoles: '"staff" must be #attribute, @id or #all',
      serviceRoles: '#all must stand alone',
      tags: 'Must be a JSON object: { … }',
    });
  });

  it('checks numbers, attributes and optional references', () => {
    const terminators = formSchema('terminators', 'create');
    const base = initialValues('terminators');
    const ok = terminators.parse({
      ...base,
      serviceId: 's1',
      routerId: 'r1',
      address: 'tcp:10.0.0.1:80',
      cost: ' 12 ',
    });
    expect(ok).toMatchObject({ cost: 12, identityId: null, precedence: 'default' });
    const bad = terminators.safeParse({
      ...base,
      serviceId: 's1',
      routerId: 'r1',
      address: 'a',
      cost: '70000',
    });
    expect(bad.error?.issues.map((i) => [i.path[0], i.message])).toEqual([['cost', 'At most 65535']]);
    const identities = formSchema('identities', 'create');
    const attrs = identities.safeParse({
      ...initialValues('identities'),
      name: 'x',
      roleAttributes: 'ok, #bad',
    });
    expect(attrs.error?.issues[0]?.message).toBe('"#bad" is a name: leave out the # or @');
  });

  it('asks an admin’s password on create only', () => {
    expect(
      formSchema('admins', 'create').safeParse({ username: 'ann', password: '', tags: '' }).success,
    ).toBe(false);
    expect(
      formSchema('admins', 'edit').parse({ username: 'ann', password: '', role: 'readonly', tags: '' }),
    ).toEqual({ username: 'ann', role: 'readonly', tags: {} });
    expect(
      formSchema('admins', 'edit').safeParse({ username: 'ann', password: 'short', tags: '' }).success,
    ).toBe(false);
  });

  it('starts an edit from the entity and patches only what changed', () => {
    const entity = {
      id: 'i1',
      revision: 3,
      name: 'laptop',
      type: 'Device',
      roleAttributes: ['staff', 'vpn'],
      defaultHostingPrecedence: 'default',
      defaultHostingCost: 0,
      tags: { a: 1 },
    };
    const values = initialValues('identities', entity);
    expect(values).toMatchObject({ name: 'laptop', roleAttributes: 'staff, vpn', defaultHostingCost: '0' });
    const next = formSchema('identities', 'edit').parse({
      ...values,
      roleAttributes: 'staff',
      defaultHostingCost: '0',
    });
    expect(changedFields(entity, next)).toEqual({ roleAttributes: ['staff'] });
  });

  it('splits lists on commas and new lines', () => {
    expect(splitList(' a, b\n\n c ,')).toEqual(['a', 'b', 'c']);
  });
});

describe('list queries', () => {
  it('joins the search and the typed filter', () => {
    expect(combinedFilter('identities', '', '')).toBe('');
    expect(combinedFilter('identities', ' lap"top ', '')).toBe('name contains "lap\\"top"');
    expect(combinedFilter('admins', 'ann', 'a = 1 or b = 2')).toBe(
      'username contains "ann" and (a = 1 or b = 2)',
    );
    expect(combinedFilter('terminators', '', 'cost > 1')).toBe('cost > 1');
  });

  it('turns the table state into list parameters', () => {
    let state = toggleSort({ ...initialTableState, offset: 50 }, 'name');
    expect(listQuery('services', state)).toEqual({ limit: 25, offset: 0, sort: 'name' });
    state = toggleSort(state, 'name');
    expect(listQuery('services', state).sort).toBe('-name');
    state = toggleSort(state, 'name');
    expect(listQuery('services', state)).toEqual({ limit: 25, offset: 0 });
  });

  it('clamps paging to the pages that exist', () => {
    expect(goToPage(initialTableState, 99, 60).offset).toBe(50);
    expect(goToPage(initialTableState, -1, 60).offset).toBe(0);
    expect(goToPage(initialTableState, 1, 0).offset).toBe(0);
    expect(pageInfo({ limit: 25, offset: 50 }, 60, 10)).toEqual({ page: 2, pages: 3, from: 51, to: 60 });
    expect(pageInfo({ limit: 25, offset: 0 }, 0, 0)).toEqual({ page: 0, pages: 1, from: 0, to: 0 });
  });

  it('formats cells by kind', () => {
    const [name, roles] = describeCollection('service-policies').fields;
    expect(formatCell(name!, 'web')).toBe('web');
    expect(formatCell(name!, null)).toBe('–');
    expect(formatCell({ ...roles!, kind: 'roles' }, ['#a', '@b'])).toBe('#a, @b');
    expect(formatCell({ ...roles!, kind: 'boolean' }, false)).toBe('no');
    const updated = bookkeepingFields.find((f) => f.name === 'updatedAt')!;
    expect(formatCell(updated, '2030-01-02T03:04:05.000Z', (d) => d.toISOString().slice(0, 10))).toBe(
      '2030-01-02',
    );
  });
});

describe('hash routes', () => {
  const routes: Route[] = [
    { page: 'cluster' },
    { page: 'events' },
    { page: 'policy-advisor' },
    { page: 'policy-advisor', identity: 'i 1', service: 's&2' },
    { page: 'collection', collection: 'service-edge-router-policies' },
    { page: 'create', collection: 'identities' },
    { page: 'entity', collection: 'configs', id: 'a/b c' },
  ];

  it.each(routes)('round-trips %o', (route) => {
    expect(parseRoute(formatRoute(route))).toEqual(route);
  });

  it('opens the cluster by default and says what it cannot find', () => {
    expect(parseRoute('')).toEqual({ page: 'cluster' });
    expect(parseRoute('#/')).toEqual({ page: 'cluster' });
    expect(parseRoute('#/c/unknown')).toEqual({ page: 'not-found', path: '/c/unknown' });
    expect(parseRoute('#/c/identities/%E0%A4%A')).toEqual({
      page: 'not-found',
      path: '/c/identities/%E0%A4%A',
    });
  });

  it('links every collection in the navigation', () => {
    for (const c of collectionOrder) expect(collectionDescriptions[c].plural).not.toBe('');
  });
});

describe('page titles', () => {
  it('name the page and the product', () => {
    expect(pageTitle({ page: 'cluster' })).toBe('Cluster — meshdesk');
    expect(pageTitle({ page: 'collection', collection: 'service-policies' })).toBe(
      'Service policies — meshdesk',
    );
    expect(pageTitle({ page: 'create', collection: 'identities' })).toBe('New identity — meshdesk');
    expect(pageTitle({ page: 'entity', collection: 'configs', id: 'c1' })).toBe('Config — meshdesk');
    expect(pageTitle({ page: 'not-found', path: '/x' })).toBe('Not found — meshdesk');
  });
});
