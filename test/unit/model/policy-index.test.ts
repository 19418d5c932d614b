/**
 * The policy index, one rule per test: how role lists select (#all, @id, #attr, AllOf, AnyOf,
 * empty), what service, edge router and service edge router policies grant, reference counting,
 * entity and policy changes and deletions, disabled routers, each reason a check gives for a
 * denial, and the integrity check and repair. After every test the incremental index must equal
 * the from-scratch recomputation.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { ModelDatabase } from '../../../core/model/database.js';
import { migration001 } from '../../../core/model/migrations/001-entities.js';
import { migration002 } from '../../../core/model/migrations/002-policy-index.js';
import { migration003 } from '../../../core/model/migrations/003-time-indexes.js';
import { migration004 } from '../../../core/model/migrations/004-access-from-members.js';
import { migrations } from '../../../core/model/migrations/index.js';
import { PolicyIndex } from '../../../core/model/policy/index.js';
import { ModelFixture } from './fixtures.js';

let f: ModelFixture;

beforeEach(async () => {
  f = await ModelFixture.open();
});

afterEach(() => {
  expect(f.index.checkIntegrity()).toEqual({ ok: true, problems: [] });
  f.close();
});

function dialers(serviceId: string, identities: readonly string[]): string[] {
  return identities.filter((i) => f.index.servicesForIdentity(i, 'Dial').includes(serviceId));
}

function dials(identityId: string, serviceId: string): boolean {
  return f.index.policyCheck(identityId, serviceId, 'Dial').allowed;
}

function count(sql: string, params: string[] = []): number {
  return Number(f.db.value(sql, params));
}

describe('role lists select entities', () => {
  beforeEach(() => {
    f.identity('alice', ['sales', 'emea'])
      .identity('bob', ['sales'])
      .identity('carol', ['emea'])
      .identity('dave', [])
      .service('web', ['public']);
  });
  const everyone = ['alice', 'bob', 'carol', 'dave'];

  it('#all alone selects every entity of the type, including ones created later', () => {
    f.servicePolicy('p', { identityRoles: ['#all'], serviceRoles: ['#all'] });
    expect(dialers('web', everyone)).toEqual(everyone);
    f.identity('erin').service('mail');
    expect(f.index.servicesForIdentity('erin', 'Dial')).toEqual(['mail', 'web']);
  });

  it('@id selects that entity only', () => {
    f.servicePolicy('p', { identityRoles: ['@bob'], serviceRoles: ['@web'] });
    expect(dialers('web', everyone)).toEqual(['bob']);
  });

  it('@id of an entity that does not exist yet selects it once it is created', () => {
    f.servicePolicy('p', { identityRoles: ['@erin'], serviceRoles: ['@web'] });
    expect(count("SELECT count(*) FROM policy_members WHERE entity_type = 'identity'")).toBe(0);
    f.identity('erin');
    expect(f.index.servicesForIdentity('erin', 'Dial')).toEqual(['web']);
  });

  it('#attr selects the entities carrying the attribute', () => {
    f.servicePolicy('p', { identityRoles: ['#emea'], serviceRoles: ['#public'] });
    expect(dialers('web', everyone)).toEqual(['alice', 'carol']);
  });

  it('AllOf selects the entities matching every role', () => {
    f.servicePolicy('p', { semantic: 'AllOf', identityRoles: ['#sales', '#emea'], serviceRoles: ['@web'] });
    expect(dialers('web', everyone)).toEqual(['alice']);
  });

  it('AnyOf selects the entities matching any role', () => {
    f.servicePolicy('p', { semantic: 'AnyOf', identityRoles: ['#sales', '#emea'], serviceRoles: ['@web'] });
    expect(dialers('web', everyone)).toEqual(['alice', 'bob', 'carol']);
  });

  it('an @id selects its entity whatever the semantic; AllOf applies to the #attr roles (OpenZiti)', () => {
    f.servicePolicy('p1', { identityRoles: ['@bob', '#sales'], serviceRoles: ['@web'] });
    f.servicePolicy('p2', { identityRoles: ['@carol', '#emea', '#sales'], serviceRoles: ['@web'] });
    // bob is named by p1 and lacks #emea for p2; carol is named by p2 though she lacks #sales;
    // alice is named by neither but carries every #attr of both.
    expect(f.index.policyCheck('bob', 'web', 'Dial').policies).toEqual([{ id: 'p1', name: 'p1' }]);
    expect(f.index.policyCheck('carol', 'web', 'Dial').policies).toEqual([{ id: 'p2', name: 'p2' }]);
    expect(f.index.policyCheck('alice', 'web', 'Dial').policies).toEqual([
      { id: 'p1', name: 'p1' },
      { id: 'p2', name: 'p2' },
    ]);
  });

  it('two @ids select both, with AllOf as with AnyOf', () => {
    f.servicePolicy('p', { semantic: 'AllOf', identityRoles: ['@bob', '@carol'], serviceRoles: ['@web'] });
    expect(dialers('web', everyone)).toEqual(['bob', 'carol']);
    f.servicePolicy('p', { semantic: 'AnyOf', identityRoles: ['@bob', '@carol'], serviceRoles: ['@web'] });
    expect(dialers('web', everyone)).toEqual(['bob', 'carol']);
  });

  it('a repeated role counts once', () => {
    f.servicePolicy('p', { identityRoles: ['#sales', '#sales'], serviceRoles: ['@web', '@web'] });
    expect(dialers('web', everyone)).toEqual(['alice', 'bob']);
  });

  it('an empty list selects nothing, on either side and with either semantic', () => {
    f.servicePolicy('p1', { identityRoles: [], serviceRoles: ['#all'] });
    f.servicePolicy('p2', { semantic: 'AnyOf', identityRoles: ['#all'], serviceRoles: [] });
    expect(dialers('web', everyone)).toEqual([]);
    expect(count('SELECT count(*) FROM policy_members')).toBe(5);
  });

  it('a role list that does not parse selects nothing', () => {
    f.db.run(
      `INSERT INTO service_policies (id, name, type, identity_roles, service_roles, created_at, updated_at)
       VALUES ('bad', 'bad', 'Dial', '["#all", "#sales"]', 'not json', 'x', 'x')`,
    );
    f.index.policyChanged('service', 'bad');
    expect(dialers('web', everyone)).toEqual([]);
    expect(count('SELECT count(*) FROM policy_roles')).toBe(0);
  });
});

describe('service policies grant Dial or Bind', () => {
  beforeEach(() => {
    f.identity('alice', ['staff']).service('web').openRouting();
  });

  it('a Dial policy grants Dial, not Bind; a Bind policy grants Bind, not Dial', () => {
    f.servicePolicy('dial', { type: 'Dial', identityRoles: ['#staff'], serviceRoles: ['@web'] });
    expect(f.index.policyCheck('alice', 'web', 'Dial')).toEqual({
      allowed: true,
      policies: [{ id: 'dial', name: 'dial' }],
      missing: [],
    });
    expect(f.index.policyCheck('alice', 'web', 'Bind').allowed).toBe(false);
    f.deletePolicy('service', 'dial');
    f.servicePolicy('bind', { type: 'Bind', identityRoles: ['#staff'], serviceRoles: ['@web'] });
    expect(f.index.servicesForIdentity('alice', 'Bind')).toEqual(['web']);
    expect(f.index.servicesForIdentity('alice', 'Dial')).toEqual([]);
    expect(f.index.policyCheck('alice', 'web', 'Bind').allowed).toBe(true);
  });

  it('changing a policy from Dial to Bind moves the access it grants', () => {
    f.servicePolicy('p', { type: 'Dial', identityRoles: ['#staff'], serviceRoles: ['@web'] });
    f.servicePolicy('p', { type: 'Bind', identityRoles: ['#staff'], serviceRoles: ['@web'] });
    expect(dials('alice', 'web')).toBe(false);
    expect(f.index.policyCheck('alice', 'web', 'Bind').policies).toEqual([{ id: 'p', name: 'p' }]);
  });

  it('Bind needs no router', () => {
    f.deletePolicy('edgeRouter', 'erp-all').deletePolicy('serviceEdgeRouter', 'serp-all');
    f.servicePolicy('p', { type: 'Bind', identityRoles: ['#staff'], serviceRoles: ['@web'] });
    expect(f.index.policyCheck('alice', 'web', 'Bind')).toMatchObject({ allowed: true, missing: [] });
  });

  it('lists every granting policy of the asked type, by name', () => {
    f.servicePolicy('zeta', { identityRoles: ['@alice'], serviceRoles: ['#all'] });
    f.servicePolicy('alpha', { identityRoles: ['#staff'], serviceRoles: ['@web'] });
    f.servicePolicy('bind', { type: 'Bind', identityRoles: ['#all'], serviceRoles: ['#all'] });
    expect(f.index.policyCheck('alice', 'web', 'Dial').policies.map((p) => p.name)).toEqual([
      'alpha',
      'zeta',
    ]);
  });
});

describe('reference counting', () => {
  beforeEach(() => {
    f.identity('alice', ['staff']).service('web', ['public']).openRouting();
  });

  it('access granted by two policies survives deleting one of them', () => {
    f.servicePolicy('p1', { identityRoles: ['#staff'], serviceRoles: ['#public'] });
    f.servicePolicy('p2', { identityRoles: ['@alice'], serviceRoles: ['@web'] });
    expect(f.index.servicesForIdentity('alice', 'Dial')).toEqual(['web']);
    f.deletePolicy('service', 'p1');
    expect(f.index.servicesForIdentity('alice', 'Dial')).toEqual(['web']);
    expect(f.index.policyCheck('alice', 'web', 'Dial').policies).toEqual([{ id: 'p2', name: 'p2' }]);
    f.deletePolicy('service', 'p2', 'rowFirst');
    expect(f.index.servicesForIdentity('alice', 'Dial')).toEqual([]);
    expect(dials('alice', 'web')).toBe(false);
  });

  it('a router given by two policies is listed once and survives deleting one of them', () => {
    f.router('r2');
    f.edgeRouterPolicy('erp2', { identityRoles: ['@alice'], routerRoles: ['@r1'] });
    f.serviceEdgeRouterPolicy('serp2', { serviceRoles: ['#public'], routerRoles: ['@r1'] });
    expect(f.index.routersForIdentity('alice')).toEqual(['r1', 'r2']);
    expect(f.index.routersForService('web')).toEqual(['r1', 'r2']);
    f.deletePolicy('edgeRouter', 'erp-all').deletePolicy('serviceEdgeRouter', 'serp-all', 'rowFirst');
    expect(f.index.routersForIdentity('alice')).toEqual(['r1']);
    expect(f.index.routersForService('web')).toEqual(['r1']);
    f.deletePolicy('edgeRouter', 'erp2');
    expect(f.index.routersForIdentity('alice')).toEqual([]);
    expect(f.index.routersForService('web')).toEqual(['r1']);
  });

  it('narrowing a policy withdraws only what it no longer selects', () => {
    f.identity('bob', ['staff']).service('mail', ['public']);
    f.servicePolicy('p', { identityRoles: ['#staff'], serviceRoles: ['#public'] });
    f.servicePolicy('q', { identityRoles: ['@bob'], serviceRoles: ['@mail'] });
    f.servicePolicy('p', { identityRoles: ['@alice'], serviceRoles: ['#public'] });
    expect(f.index.servicesForIdentity('alice', 'Dial')).toEqual(['mail', 'web']);
    expect(f.index.servicesForIdentity('bob', 'Dial')).toEqual(['mail']);
    f.servicePolicy('p', { identityRoles: ['#staff'], serviceRoles: ['@web'] });
    expect(f.index.servicesForIdentity('alice', 'Dial')).toEqual(['web']);
    expect(f.index.servicesForIdentity('bob', 'Dial')).toEqual(['mail', 'web']);
  });

  it('calling a hook again without a change changes nothing', () => {
    f.servicePolicy('p', { identityRoles: ['#staff'], serviceRoles: ['#public'] });
    const before = f.index.stored();
    f.index.policyChanged('service', 'p');
    f.index.entityChanged('identity', 'alice');
    f.index.entityChanged('service', 'web');
    expect(f.index.stored()).toEqual(before);
  });
});

describe('entity changes', () => {
  beforeEach(() => {
    f.identity('alice').service('web').openRouting();
    f.servicePolicy('p', { identityRoles: ['#staff'], serviceRoles: ['#public'] });
  });

  it('gaining an attribute grants access; losing it withdraws it', () => {
    expect(dials('alice', 'web')).toBe(false);
    f.identity('alice', ['staff']);
    expect(dials('alice', 'web')).toBe(false);
    f.service('web', ['public']);
    expect(dials('alice', 'web')).toBe(true);
    f.identity('alice', ['contractor']);
    expect(dials('alice', 'web')).toBe(false);
    expect(f.index.servicesForIdentity('alice', 'Dial')).toEqual([]);
  });

  it('a router changing attributes moves in and out of router policies', () => {
    f.identity('alice', ['staff']).service('web', ['public']);
    f.router('r2', ['edge']);
    f.edgeRouterPolicy('erp-edge', { identityRoles: ['#staff'], routerRoles: ['#edge'] });
    expect(f.index.routersForIdentity('alice')).toEqual(['r1', 'r2']);
    f.router('r2', []);
    expect(f.index.routersForIdentity('alice')).toEqual(['r1', 'r2']); // r2 still by #all
    f.deletePolicy('edgeRouter', 'erp-all');
    expect(f.index.routersForIdentity('alice')).toEqual([]);
    f.router('r2', ['edge']);
    expect(f.index.routersForIdentity('alice')).toEqual(['r2']);
  });

  it.each(['hookFirst', 'rowFirst'] as const)('deleting an entity withdraws its access (%s)', (order) => {
    f.identity('alice', ['staff']).service('web', ['public']);
    f.deleteEntity('identity', 'alice', order);
    expect(f.index.servicesForIdentity('alice', 'Dial')).toEqual([]);
    expect(f.index.routersForIdentity('alice')).toEqual([]);
    expect(count("SELECT count(*) FROM policy_members WHERE entity_id = 'alice'")).toBe(0);
    f.deleteEntity('router', 'r1', order);
    expect(f.index.routersForService('web')).toEqual([]);
    f.deleteEntity('service', 'web', order);
    expect(count('SELECT count(*) FROM policy_members')).toBe(0);
  });

  it('entityChanged for an entity whose row is gone acts as a delete', () => {
    f.identity('alice', ['staff']).service('web', ['public']);
    f.db.run("DELETE FROM identities WHERE id = 'alice'");
    f.db.run("DELETE FROM entity_attributes WHERE entity_id = 'alice'");
    f.index.entityChanged('identity', 'alice');
    expect(f.index.servicesForIdentity('alice', 'Dial')).toEqual([]);
  });

  it('an @id role outlives its entity and selects a new entity with that id', () => {
    f.servicePolicy('by-id', { identityRoles: ['@alice'], serviceRoles: ['@web'] });
    f.deleteEntity('identity', 'alice');
    expect(dials('alice', 'web')).toBe(false);
    f.identity('alice');
    expect(f.index.policyCheck('alice', 'web', 'Dial').policies).toEqual([{ id: 'by-id', name: 'by-id' }]);
  });
});

describe('policy checks explain a denial', () => {
  beforeEach(() => {
    f.identity('alice', ['staff']).service('web', ['public']);
  });

  it('names the missing service policy', () => {
    f.openRouting();
    f.servicePolicy('bind', { type: 'Bind', identityRoles: ['#all'], serviceRoles: ['#all'] });
    expect(f.index.policyCheck('alice', 'web', 'Dial')).toEqual({
      allowed: false,
      policies: [],
      missing: ['no Dial service policy grants identity "alice" service "web"'],
    });
    expect(f.index.policyCheck('alice', 'web', 'Bind').allowed).toBe(true);
  });

  it('names the missing edge router policy and service edge router policy', () => {
    f.router('r1');
    f.servicePolicy('p', { identityRoles: ['#staff'], serviceRoles: ['#public'] });
    expect(f.index.policyCheck('alice', 'web', 'Dial')).toEqual({
      allowed: false,
      policies: [{ id: 'p', name: 'p' }],
      missing: [
        'no edge router policy gives identity "alice" a router',
        'no service edge router policy gives service "web" a router',
      ],
    });
    f.edgeRouterPolicy('erp', { identityRoles: ['#all'], routerRoles: ['#all'] });
    expect(f.index.policyCheck('alice', 'web', 'Dial').missing).toEqual([
      'no service edge router policy gives service "web" a router',
    ]);
    f.deletePolicy('edgeRouter', 'erp');
    f.serviceEdgeRouterPolicy('serp', { serviceRoles: ['#all'], routerRoles: ['#all'] });
    expect(f.index.policyCheck('alice', 'web', 'Dial').missing).toEqual([
      'no edge router policy gives identity "alice" a router',
    ]);
  });

  it('says when the identity and the service have no router in common', () => {
    f.router('r1').router('r2');
    f.servicePolicy('p', { identityRoles: ['#staff'], serviceRoles: ['#public'] });
    f.edgeRouterPolicy('erp', { identityRoles: ['@alice'], routerRoles: ['@r1'] });
    f.serviceEdgeRouterPolicy('serp', { serviceRoles: ['@web'], routerRoles: ['@r2'] });
    expect(f.index.policyCheck('alice', 'web', 'Dial').missing).toEqual([
      'no router is usable by both identity "alice" and service "web"',
    ]);
    f.serviceEdgeRouterPolicy('serp', {
      semantic: 'AnyOf',
      serviceRoles: ['@web'],
      routerRoles: ['@r1', '@r2'],
    });
    expect(dials('alice', 'web')).toBe(true);
  });

  it('says when every common router is disabled; one enabled router is enough', () => {
    f.router('r1', [], { disabled: true }).router('r2', [], { disabled: true }).router('r3');
    f.servicePolicy('p', { identityRoles: ['#staff'], serviceRoles: ['#public'] });
    f.edgeRouterPolicy('erp', { semantic: 'AnyOf', identityRoles: ['#all'], routerRoles: ['@r1', '@r2'] });
    f.serviceEdgeRouterPolicy('serp', { serviceRoles: ['#all'], routerRoles: ['#all'] });
    expect(f.index.policyCheck('alice', 'web', 'Dial')).toEqual({
      allowed: false,
      policies: [{ id: 'p', name: 'p' }],
      missing: ['every router usable by both identity "alice" and service "web" is disabled: "r1", "r2"'],
    });
    expect(f.index.policyCheck('alice', 'web', 'Bind').missing).toEqual([
      'no Bind service policy grants identity "alice" service "web"',
    ]);
    f.setRouterDisabled('r2', false);
    expect(dials('alice', 'web')).toBe(true);
  });

  it('lists every missing piece at once', () => {
    expect(f.index.policyCheck('alice', 'web', 'Dial').missing).toEqual([
      'no Dial service policy grants identity "alice" service "web"',
      'no edge router policy gives identity "alice" a router',
      'no service edge router policy gives service "web" a router',
    ]);
  });

  it('says when the identity or the service does not exist', () => {
    expect(f.index.policyCheck('nobody', 'nothing', 'Dial')).toEqual({
      allowed: false,
      policies: [],
      missing: ['identity "nobody" does not exist', 'service "nothing" does not exist'],
    });
  });
});

describe('inside the model database', () => {
  beforeEach(() => {
    f.identity('alice', ['staff']).service('web', ['public']).openRouting();
    f.servicePolicy('p', { identityRoles: ['#staff'], serviceRoles: ['#public'] });
  });

  it('a policy check names policies by their current name', () => {
    f.db.run("UPDATE service_policies SET name = 'Staff reach the web' WHERE id = 'p'");
    f.index.policyChanged('service', 'p');
    expect(f.index.policyCheck('alice', 'web', 'Dial').policies).toEqual([
      { id: 'p', name: 'Staff reach the web' },
    ]);
  });

  it('a command rolled back with its savepoint takes its index changes with it', () => {
    const before = f.index.stored();
    expect(() =>
      f.db.transaction(() =>
        f.db.savepoint(() => {
          f.db.run("UPDATE identities SET role_attributes = '[]' WHERE id = 'alice'");
          f.db.run("DELETE FROM entity_attributes WHERE entity_id = 'alice'");
          f.index.entityChanged('identity', 'alice');
          expect(dials('alice', 'web')).toBe(false);
          throw new Error('rejected');
        }),
      ),
    ).toThrow('rejected');
    expect(f.index.stored()).toEqual(before);
    expect(dials('alice', 'web')).toBe(true);
  });

  it('keeps working after the database is exported for a snapshot', () => {
    f.db.export();
    expect(dials('alice', 'web')).toBe(true);
    f.identity('bob', ['staff']);
    expect(dials('bob', 'web')).toBe(true);
  });

  it('a rolled-back change the cache read inside its transaction is not used after the rollback', () => {
    expect(dials('alice', 'web')).toBe(true);
    expect(() =>
      f.db.transaction(() =>
        f.db.savepoint(() => {
          f.db.run("DELETE FROM entity_attributes WHERE entity_id = 'web'");
          f.db.run("UPDATE services SET role_attributes = '[]' WHERE id = 'web'");
          f.index.entityChanged('service', 'web');
          f.index.policyDeleted('serviceEdgeRouter', 'serp-all');
          f.db.run("DELETE FROM service_edge_router_policies WHERE id = 'serp-all'");
          expect(f.index.policyCheck('alice', 'web', 'Dial').missing).toEqual([
            'no Dial service policy grants identity "alice" service "web"',
            'no service edge router policy gives service "web" a router',
          ]);
          throw new Error('rejected');
        }),
      ),
    ).toThrow('rejected');
    expect(dials('alice', 'web')).toBe(true);
  });

  it('a second PolicyIndex over the same database sees changes made through the first', () => {
    const reader = new PolicyIndex(f.db);
    expect(reader.policyCheck('alice', 'web', 'Dial').allowed).toBe(true);
    f.service('web', []);
    expect(reader.policyCheck('alice', 'web', 'Dial').allowed).toBe(false);
    f.service('web', ['public']).deletePolicy('edgeRouter', 'erp-all');
    expect(reader.policyCheck('alice', 'web', 'Dial').missing).toEqual([
      'no edge router policy gives identity "alice" a router',
    ]);
    f.edgeRouterPolicy('erp-all', { identityRoles: ['#all'], routerRoles: ['#all'] });
    f.setRouterDisabled('r1', true);
    expect(reader.policyCheck('alice', 'web', 'Dial').allowed).toBe(false);
  });

  it("prepares its statements once, in the database's cache, and again only after an export", () => {
    expect(dials('alice', 'web')).toBe(true);
    const prepare = vi.spyOn(f.db.db, 'prepare');
    try {
      expect(dials('alice', 'web')).toBe(true);
      expect(prepare).not.toHaveBeenCalled();
      // sql.js frees every statement when it exports; the database then forgets them.
      f.db.export();
      expect(dials('alice', 'web')).toBe(true);
      expect(prepare).toHaveBeenCalled();
      f.identity('alice', []);
      expect(dials('alice', 'web')).toBe(false);
    } finally {
      prepare.mockRestore();
    }
  });
});

describe('integrity', () => {
  beforeEach(() => {
    f.identity('alice', ['staff']).identity('bob', ['staff']).service('web', ['public']).openRouting();
    f.servicePolicy('p', { identityRoles: ['#staff'], serviceRoles: ['#public'] });
    f.servicePolicy('q', { identityRoles: ['@alice'], serviceRoles: ['#all'] });
  });

  it('recompute() equals the incrementally kept index', () => {
    expect(f.index.stored()).toEqual(f.index.recompute());
    const members = (policyId: string) =>
      f.index
        .recompute()
        .policyMembers.filter((m) => m.policyId === policyId)
        .map((m) => `${m.entityType} ${m.entityId}`);
    expect(members('p')).toEqual(['identity alice', 'identity bob', 'service web']);
    expect(members('q')).toEqual(['identity alice', 'service web']);
  });

  it('finds a wrong value, a lost row and a stray row, and fixIntegrity repairs them', () => {
    f.db.run("UPDATE policy_index_policies SET grant_type = 'Bind' WHERE policy_id = 'p'");
    f.db.run("DELETE FROM policy_members WHERE entity_id = 'bob'");
    f.db.run("INSERT INTO policy_members VALUES ('edgeRouter', 'erp-all', 'identity', 'ghost')");
    const report = f.index.checkIntegrity();
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([
      'policy_index_policies: (policy_kind=service, policy_id=p) has grant_type Bind, should be Dial',
      'policy_members: missing (policy_kind=edgeRouter, policy_id=erp-all, entity_type=identity, entity_id=bob)',
      'policy_members: missing (policy_kind=service, policy_id=p, entity_type=identity, entity_id=bob)',
      'policy_members: unexpected (policy_kind=edgeRouter, policy_id=erp-all, entity_type=identity, entity_id=ghost)',
    ]);
    expect(f.index.fixIntegrity()).toEqual(report);
    expect(f.index.checkIntegrity().ok).toBe(true);
    expect(f.index.fixIntegrity()).toEqual({ ok: true, problems: [] });
  });

  it('finds entity_attributes that disagree with role_attributes', () => {
    f.db.run("DELETE FROM entity_attributes WHERE entity_id = 'bob'");
    expect(f.index.checkIntegrity().problems).toEqual([
      'entity_attributes: missing (entity_type=identity, entity_id=bob, attribute=staff)',
    ]);
    f.index.fixIntegrity();
    f.identity('bob', []);
    expect(f.index.servicesForIdentity('bob', 'Dial')).toEqual([]);
  });

  it('lists at most 50 problems and counts the rest', () => {
    for (let i = 0; i < 60; i++)
      f.db.run("INSERT INTO policy_members VALUES ('serviceEdgeRouter', 'serp-all', 'service', ?)", [
        `s${i}`,
      ]);
    const { problems } = f.index.checkIntegrity();
    expect(problems).toHaveLength(51);
    expect(problems[50]).toBe('… and 10 more');
    f.index.fixIntegrity();
  });

  it('a database of schema version 1 gains an empty index that fixIntegrity fills', async () => {
    const v1 = await ModelDatabase.open(undefined, [migration001]);
    v1.run(
      `INSERT INTO identities (id, name, type, role_attributes, created_at, updated_at)
       VALUES ('alice', 'alice', 'Default', '["staff"]', 'x', 'x')`,
    );
    v1.run("INSERT INTO entity_attributes VALUES ('identity', 'alice', 'staff')");
    v1.run(`INSERT INTO services (id, name, created_at, updated_at) VALUES ('web', 'web', 'x', 'x')`);
    v1.run(
      `INSERT INTO service_policies (id, name, type, identity_roles, service_roles, created_at, updated_at)
       VALUES ('p', 'p', 'Bind', '["#staff"]', '["#all"]', 'x', 'x')`,
    );
    expect(v1.schemaVersion).toBe(1);
    const db = await ModelDatabase.open(v1.export());
    v1.close();
    expect(db.schemaVersion).toBe(migrations.at(-1)?.version);
    const index = new PolicyIndex(db);
    expect(index.checkIntegrity().ok).toBe(false);
    index.fixIntegrity();
    expect(index.policyCheck('alice', 'web', 'Bind').allowed).toBe(true);
    expect(index.checkIntegrity().ok).toBe(true);
    db.close();
  });
});

describe('migration 4: access read from policy members', () => {
  /** The tables of version 3 that migration 4 keeps, copied row by row. */
  const KEPT = [
    'identities',
    'services',
    'routers',
    'service_policies',
    'edge_router_policies',
    'service_edge_router_policies',
    'entity_attributes',
    'policy_index_policies',
    'policy_roles',
    'policy_members',
  ];

  it('drops the access tables of a version 3 database and keeps the rest of the index', async () => {
    f.identity('alice', ['staff']).service('web', ['public']).openRouting();
    f.servicePolicy('p', { identityRoles: ['#staff'], serviceRoles: ['#public'] });
    const v3 = await ModelDatabase.open(undefined, [migration001, migration002, migration003]);
    for (const table of KEPT) {
      for (const row of f.db.all(`SELECT * FROM ${table}`)) {
        const columns = Object.keys(row);
        v3.run(
          `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`,
          columns.map((c) => row[c] ?? null),
        );
      }
    }
    // What the version 3 index also kept for this model.
    v3.run("INSERT INTO identity_service_access VALUES ('alice', 'Dial', 'web', 1)");
    v3.run("INSERT INTO identity_router_access VALUES ('alice', 'r1', 1)");
    v3.run("INSERT INTO service_router_access VALUES ('web', 'r1', 1)");
    const bytes = v3.export();
    v3.close();

    const db = await ModelDatabase.open(bytes, [migration001, migration002, migration003, migration004]);
    const index = new PolicyIndex(db);
    expect(db.schemaVersion).toBe(4);
    expect(db.all("SELECT name FROM sqlite_master WHERE name LIKE '%_access%'")).toEqual([]);
    expect(index.stored()).toEqual(f.index.stored());
    expect(index.checkIntegrity()).toEqual({ ok: true, problems: [] });
    expect(index.routersForIdentity('alice')).toEqual(['r1']);
    expect(index.policyCheck('alice', 'web', 'Dial')).toMatchObject({ allowed: true, missing: [] });
    db.close();
  });
});
