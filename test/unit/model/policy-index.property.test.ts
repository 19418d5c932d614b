/**
 * The incremental policy index against its from-scratch recomputation: after any random sequence
 * of entity and policy creates, updates and deletes, the stored index equals `recompute()` and
 * every policy check agrees with it; a corrupted row is found by `checkIntegrity()` and repaired
 * by `fixIntegrity()`, after which incremental maintenance carries on correctly.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import type {
  IndexContents,
  IndexedEntityType,
  PolicyKind,
  ServicePolicyType,
} from '../../../core/model/policy/index.js';
import type { Semantic } from '../../../core/model/roles.js';
import { ModelFixture, type HookOrder } from './fixtures.js';

const IDS: Record<IndexedEntityType, readonly string[]> = {
  identity: ['i0', 'i1', 'i2', 'i3', 'i4'],
  service: ['s0', 's1', 's2'],
  router: ['r0', 'r1', 'r2'],
};
const ATTRIBUTES = ['a', 'b', 'c'];
const POLICY_IDS = ['p0', 'p1', 'p2'];

type Op =
  | { op: 'entity'; type: IndexedEntityType; id: string; attributes: string[] }
  | { op: 'deleteEntity'; type: IndexedEntityType; id: string; order: HookOrder }
  | {
      op: 'policy';
      kind: PolicyKind;
      id: string;
      type: ServicePolicyType;
      semantic: Semantic;
      aRoles: string[];
      bRoles: string[];
    }
  | { op: 'deletePolicy'; kind: PolicyKind; id: string; order: HookOrder }
  | { op: 'disableRouter'; id: string; disabled: boolean };

const entityType = fc.constantFrom<IndexedEntityType>('identity', 'service', 'router');
const policyKind = fc.constantFrom<PolicyKind>('service', 'edgeRouter', 'serviceEdgeRouter');
const order = fc.constantFrom<HookOrder>('hookFirst', 'rowFirst');

/** A role list for one entity type: #all alone, or up to three #attr / @id roles (ids may not exist). */
function roleList(type: IndexedEntityType): fc.Arbitrary<string[]> {
  return fc.oneof(
    { weight: 1, arbitrary: fc.constant<string[]>(['#all']) },
    {
      weight: 4,
      arbitrary: fc.array(
        fc.oneof(
          fc.constantFrom(...ATTRIBUTES.map((a) => `#${a}`)),
          fc.constantFrom(...IDS[type].map((id) => `@${id}`)),
        ),
        { maxLength: 3 },
      ),
    },
  );
}

const SIDES: Record<PolicyKind, readonly [IndexedEntityType, IndexedEntityType]> = {
  service: ['identity', 'service'],
  edgeRouter: ['identity', 'router'],
  serviceEdgeRouter: ['service', 'router'],
};

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: entityType.chain((type) =>
      fc.record({
        op: fc.constant('entity' as const),
        type: fc.constant(type),
        id: fc.constantFrom(...IDS[type]),
        attributes: fc.subarray(ATTRIBUTES),
      }),
    ),
  },
  {
    weight: 1,
    arbitrary: entityType.chain((type) =>
      fc.record({
        op: fc.constant('deleteEntity' as const),
        type: fc.constant(type),
        id: fc.constantFrom(...IDS[type]),
        order,
      }),
    ),
  },
  {
    weight: 4,
    arbitrary: policyKind.chain((kind) =>
      fc.record({
        op: fc.constant('policy' as const),
        kind: fc.constant(kind),
        id: fc.constantFrom(...POLICY_IDS),
        type: fc.constantFrom<ServicePolicyType>('Dial', 'Bind'),
        semantic: fc.constantFrom<Semantic>('AllOf', 'AnyOf'),
        aRoles: roleList(SIDES[kind][0]),
        bRoles: roleList(SIDES[kind][1]),
      }),
    ),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('deletePolicy' as const),
      kind: policyKind,
      id: fc.constantFrom(...POLICY_IDS),
      order,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('disableRouter' as const),
      id: fc.constantFrom(...IDS.router),
      disabled: fc.boolean(),
    }),
  },
);

function play(f: ModelFixture, op: Op): void {
  switch (op.op) {
    case 'entity':
      f.entity(op.type, op.id, op.attributes);
      return;
    case 'deleteEntity':
      f.deleteEntity(op.type, op.id, op.order);
      return;
    case 'policy': {
      const { semantic, aRoles, bRoles } = op;
      if (op.kind === 'service') {
        f.servicePolicy(op.id, { type: op.type, semantic, identityRoles: aRoles, serviceRoles: bRoles });
      } else if (op.kind === 'edgeRouter') {
        f.edgeRouterPolicy(op.id, { semantic, identityRoles: aRoles, routerRoles: bRoles });
      } else {
        f.serviceEdgeRouterPolicy(op.id, { semantic, serviceRoles: aRoles, routerRoles: bRoles });
      }
      return;
    }
    case 'deletePolicy':
      f.deletePolicy(op.kind, op.id, op.order);
      return;
    case 'disableRouter':
      f.setRouterDisabled(op.id, op.disabled);
      return;
  }
}

/**
 * The routers the policies of `kind` give an entity of `type`, from the recomputed members: the
 * routers of every policy that selects it.
 */
function routersFrom(
  expected: IndexContents,
  kind: PolicyKind,
  type: IndexedEntityType,
  id: string,
): string[] {
  const policies = new Set(
    expected.policyMembers
      .filter((m) => m.policyKind === kind && m.entityType === type && m.entityId === id)
      .map((m) => m.policyId),
  );
  const routers = expected.policyMembers
    .filter((m) => m.policyKind === kind && m.entityType === 'router' && policies.has(m.policyId))
    .map((m) => m.entityId);
  return [...new Set(routers)].sort();
}

/** Every router list and policy check over the small universe, answered from the recomputed contents. */
function expectChecksAgree(f: ModelFixture, expected: IndexContents): void {
  const disabled = new Set(f.db.all('SELECT id FROM routers WHERE disabled = 1').map((r) => String(r.id)));
  const member = (kind: PolicyKind, policyId: string, type: IndexedEntityType, id: string) =>
    expected.policyMembers.some(
      (m) => m.policyKind === kind && m.policyId === policyId && m.entityType === type && m.entityId === id,
    );
  const identityRouters = new Map(
    IDS.identity.map((id) => [id, routersFrom(expected, 'edgeRouter', 'identity', id)]),
  );
  const serviceRouters = new Map(
    IDS.service.map((id) => [id, routersFrom(expected, 'serviceEdgeRouter', 'service', id)]),
  );
  for (const [id, routers] of identityRouters) expect(f.index.routersForIdentity(id), id).toEqual(routers);
  for (const [id, routers] of serviceRouters) expect(f.index.routersForService(id), id).toEqual(routers);
  for (const identityId of IDS.identity) {
    for (const serviceId of IDS.service) {
      for (const type of ['Dial', 'Bind'] as const) {
        const granting = expected.policies
          .filter((p) => p.policyKind === 'service' && p.grantType === type)
          .filter((p) => member('service', p.policyId, 'identity', identityId))
          .filter((p) => member('service', p.policyId, 'service', serviceId))
          .map((p) => p.policyId);
        const routed =
          type === 'Bind' ||
          (identityRouters.get(identityId) ?? []).some(
            (r) => !disabled.has(r) && (serviceRouters.get(serviceId) ?? []).includes(r),
          );
        expect(
          f.index.servicesForIdentity(identityId, type).includes(serviceId),
          `services ${type} ${identityId}`,
        ).toBe(granting.length > 0);
        const check = f.index.policyCheck(identityId, serviceId, type);
        const context = `${type} ${identityId} → ${serviceId}`;
        expect(check.allowed, context).toBe(granting.length > 0 && routed);
        expect(check.policies.map((p) => p.id).sort(), context).toEqual(granting.sort());
        expect(check.missing.length === 0, context).toBe(check.allowed);
      }
    }
  }
}

const INDEX_TABLES = [
  'entity_attributes',
  'policy_index_policies',
  'policy_roles',
  'policy_members',
] as const;

/** A stray row for each table, plausible enough to pass its constraints. */
const STRAY: Record<(typeof INDEX_TABLES)[number], string> = {
  entity_attributes: "INSERT INTO entity_attributes VALUES ('identity', 'i0', 'stray')",
  policy_index_policies:
    "INSERT INTO policy_index_policies VALUES ('service', 'stray', 'stray', 'AllOf', 'Dial')",
  policy_roles: "INSERT INTO policy_roles VALUES ('edgeRouter', 'stray', 'router', 'all', '')",
  policy_members: "INSERT INTO policy_members VALUES ('service', 'stray', 'identity', 'i0')",
};

type Corruption = { table: number; how: 'delete' | 'alter' | 'stray'; row: number };

const corruptionArb: fc.Arbitrary<Corruption> = fc.record({
  table: fc.nat({ max: INDEX_TABLES.length - 1 }),
  how: fc.constantFrom<Corruption['how']>('delete', 'alter', 'stray'),
  row: fc.nat(),
});

/** Damages one row of one index table the way a bug might. */
function corrupt(f: ModelFixture, c: Corruption): void {
  const table = INDEX_TABLES[c.table] ?? 'policy_members';
  const rows = f.db.all(`SELECT * FROM ${table}`);
  const row = rows[c.row % Math.max(rows.length, 1)];
  if (c.how === 'stray' || !row) {
    f.db.run(STRAY[table]);
    return;
  }
  const columns = Object.keys(row);
  const where = columns.map((col) => `${col} = ?`).join(' AND ');
  const params = columns.map((col) => row[col] ?? null);
  if (c.how === 'alter' && table === 'policy_index_policies') {
    f.db.run(
      `UPDATE ${table} SET semantic = CASE semantic WHEN 'AllOf' THEN 'AnyOf' ELSE 'AllOf' END WHERE ${where}`,
      params,
    );
  } else {
    f.db.run(`DELETE FROM ${table} WHERE ${where}`, params);
  }
}

describe('policy index property', () => {
  it('after any sequence of changes the index equals its recomputation', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { maxLength: 40 }), async (ops) => {
        const f = await ModelFixture.open();
        try {
          for (const op of ops) play(f, op);
          expect(f.index.checkIntegrity()).toEqual({ ok: true, problems: [] });
          const expected = f.index.recompute();
          expect(f.index.stored()).toEqual(expected);
          expectChecksAgree(f, expected);
        } finally {
          f.close();
        }
      }),
      { numRuns: 300 },
    );
  });

  it('fixIntegrity repairs a corrupted row, and maintenance carries on from there', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(opArb, { maxLength: 25 }),
        corruptionArb,
        fc.array(opArb, { maxLength: 15 }),
        async (before, corruption, after) => {
          const f = await ModelFixture.open();
          try {
            for (const op of before) play(f, op);
            corrupt(f, corruption);
            const found = f.index.checkIntegrity();
            expect(found.ok).toBe(false);
            expect(f.index.fixIntegrity()).toEqual(found);
            expect(f.index.stored()).toEqual(f.index.recompute());
            for (const op of after) play(f, op);
            expect(f.index.checkIntegrity()).toEqual({ ok: true, problems: [] });
          } finally {
            f.close();
          }
        },
      ),
      { numRuns: 100 },
    );
  });
});
