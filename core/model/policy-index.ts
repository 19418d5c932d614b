/**
 * The policy index: who may dial or bind which service, which routers an identity or a service may
 * use, denormalised at write time (tables of migrations/002-policy-index.ts, less the three that
 * 004 dropped) so that a policy check is one indexed lookup and a few cached facts instead of an
 * evaluation of every policy.
 *
 * Selection rules (role lists, see roles.ts): `#all` selects every entity of the type, `@id` that
 * entity, `#attr` the entities carrying that role attribute. As in OpenZiti, `#all` and `@id`
 * always select their entities, and the semantic applies to the `#attr` roles: with AllOf an
 * entity must carry every one of them, with AnyOf any one. An empty list, or one that does not
 * parse, selects nothing. The semantic applies to both lists.
 *
 * What is stored is every policy's members (policy_members), not access pairs: an `#all → #all`
 * policy would make identities × routers or identities × services rows (5M at 100k identities and
 * 50 routers), and keeping pair counts was about half the cost of creating an identity. An
 * identity may use the service when a service policy of the type has both as members; the routers
 * of an identity are the router members of its few edge router policies, those of a service the
 * same through its service edge router policies.
 *
 * Hook contract. The apply code calls the hooks inside the transaction that changes the rows:
 * - after writing a policy row (create or update): `servicePolicyChanged`, `edgeRouterPolicyChanged`
 *   or `serviceEdgeRouterPolicyChanged`;
 * - after writing an identity, service or router row AND its entity_attributes rows (create, or a
 *   change of role attributes): `entityChanged`;
 * - when deleting a policy or an entity: `policyDeleted` / `entityDeleted`, before or after
 *   deleting the row — they read only the index's own tables, so either order gives the same result.
 * The change hooks read the current row; finding no row they behave as the matching delete hook.
 * Every hook is idempotent: calling it again without a change in between changes nothing. A
 * router's disabled flag needs no hook: checks read it from the routers table.
 */
import type { SqlValue, Statement } from 'sql.js';

import type { ModelDatabase } from './database.js';
import { parseRoles, type ParsedRoles, type Semantic } from './roles.js';

export type PolicyKind = 'service' | 'edgeRouter' | 'serviceEdgeRouter';
export type IndexedEntityType = 'identity' | 'service' | 'router';
export type ServicePolicyType = 'Dial' | 'Bind';

export interface PolicyRef {
  readonly id: string;
  readonly name: string;
}

export interface PolicyCheck {
  readonly allowed: boolean;
  /** The service policies of the asked type that select both the identity and the service. */
  readonly policies: readonly PolicyRef[];
  /** What stands between the identity and the service, in an admin's words; empty when allowed. */
  readonly missing: readonly string[];
}

export interface IntegrityReport {
  readonly ok: boolean;
  readonly problems: readonly string[];
}

export interface EntityAttributeRow {
  readonly entityType: IndexedEntityType;
  readonly entityId: string;
  readonly attribute: string;
}
export interface IndexedPolicyRow {
  readonly policyKind: PolicyKind;
  readonly policyId: string;
  readonly name: string;
  readonly semantic: Semantic;
  readonly grantType: string;
}
export interface PolicyRoleRow {
  readonly policyKind: PolicyKind;
  readonly policyId: string;
  readonly entityType: IndexedEntityType;
  readonly roleKind: 'all' | 'id' | 'attribute';
  readonly value: string;
}
export interface PolicyMemberRow {
  readonly policyKind: PolicyKind;
  readonly policyId: string;
  readonly entityType: IndexedEntityType;
  readonly entityId: string;
}

/**
 * Everything the index stores, each list sorted by its key. entityAttributes (of identities,
 * services and routers) is the index's input rather than its output, but an index fed wrong
 * attributes drifts, so it is checked and repaired with the rest.
 */
export interface IndexContents {
  readonly entityAttributes: readonly EntityAttributeRow[];
  readonly policies: readonly IndexedPolicyRow[];
  readonly policyRoles: readonly PolicyRoleRow[];
  readonly policyMembers: readonly PolicyMemberRow[];
}

interface KindShape {
  readonly policyTable: string;
  /** The two sides of the policy, with the role list column that selects each. */
  readonly a: IndexedEntityType;
  readonly aRoles: string;
  readonly b: IndexedEntityType;
  readonly bRoles: string;
  /** Whether the policy grants a type (Dial/Bind): service policies only. */
  readonly typed: boolean;
}

const KINDS: Readonly<Record<PolicyKind, KindShape>> = {
  service: {
    policyTable: 'service_policies',
    a: 'identity',
    aRoles: 'identity_roles',
    b: 'service',
    bRoles: 'service_roles',
    typed: true,
  },
  edgeRouter: {
    policyTable: 'edge_router_policies',
    a: 'identity',
    aRoles: 'identity_roles',
    b: 'router',
    bRoles: 'router_roles',
    typed: false,
  },
  serviceEdgeRouter: {
    policyTable: 'service_edge_router_policies',
    a: 'service',
    aRoles: 'service_roles',
    b: 'router',
    bRoles: 'router_roles',
    typed: false,
  },
};
const POLICY_KINDS = Object.keys(KINDS) as PolicyKind[];

const ENTITY_TABLES: Readonly<Record<IndexedEntityType, string>> = {
  identity: 'identities',
  service: 'services',
  router: 'routers',
};
const ENTITY_TYPES = Object.keys(ENTITY_TABLES) as IndexedEntityType[];

/** The index's tables as generic rows, for reading, comparing and rewriting them wholesale. */
interface TableShape {
  readonly field: keyof IndexContents;
  readonly table: string;
  readonly columns: readonly string[];
  /** Names in the row objects, column by column. */
  readonly fields: readonly string[];
  /** How many leading columns make the key. */
  readonly keyLength: number;
  readonly where?: string;
}

const TABLES: readonly TableShape[] = [
  {
    field: 'entityAttributes',
    table: 'entity_attributes',
    columns: ['entity_type', 'entity_id', 'attribute'],
    fields: ['entityType', 'entityId', 'attribute'],
    keyLength: 3,
    where: "entity_type IN ('identity', 'service', 'router')",
  },
  {
    field: 'policies',
    table: 'policy_index_policies',
    columns: ['policy_kind', 'policy_id', 'name', 'semantic', 'grant_type'],
    fields: ['policyKind', 'policyId', 'name', 'semantic', 'grantType'],
    keyLength: 2,
  },
  {
    field: 'policyRoles',
    table: 'policy_roles',
    columns: ['policy_kind', 'policy_id', 'entity_type', 'role_kind', 'value'],
    fields: ['policyKind', 'policyId', 'entityType', 'roleKind', 'value'],
    keyLength: 5,
  },
  {
    field: 'policyMembers',
    table: 'policy_members',
    columns: ['policy_kind', 'policy_id', 'entity_type', 'entity_id'],
    fields: ['policyKind', 'policyId', 'entityType', 'entityId'],
    keyLength: 4,
  },
];

/** At most this many problems are listed one by one; the rest are counted. */
const PROBLEM_LIMIT = 50;

/*
 * Statements run often are written without joins. sql.js's SQLite re-prepares a statement that
 * joins tables on a bound parameter every time it is bound again (measured: 20-150 µs a run, ten
 * times a primary-key lookup), and not one made of correlated scalar subqueries and IN lists.
 */

/** The policies of `kind` that select entity `param` of `type`: its few memberships, by index. */
function policiesOf(kind: PolicyKind, type: IndexedEntityType, param: string): string {
  return `SELECT policy_id FROM policy_members
    WHERE entity_type = '${type}' AND entity_id = ${param} AND policy_kind = '${kind}'`;
}

/**
 * The routers that the policies of `kind` selecting entity `param` of `type` select, once per
 * policy, disabled ones included.
 */
function routersGivenBy(kind: PolicyKind, type: IndexedEntityType, param: string): string {
  return `SELECT entity_id FROM policy_members
    WHERE policy_kind = '${kind}' AND entity_type = 'router' AND policy_id IN (${policiesOf(kind, type, param)})`;
}

/**
 * What a policy check reads of identity ?1 in one statement: the index's generation (see
 * PolicyReadCache), the identity's memberships as a JSON array of [kind, policy id] (the large
 * side, never cached), and the disabled routers (routers_disabled, migration 004: usually none).
 */
const CHECK_SQL = `
SELECT (SELECT value FROM policy_index_generation),
  (SELECT json_group_array(json_array(policy_kind, policy_id)) FROM policy_members
   WHERE entity_type = 'identity' AND entity_id = ?1),
  (SELECT json_group_array(id) FROM routers WHERE disabled = 1)`;

/** The two names a denial is worded with (null when the entity does not exist). */
const NAMES_SQL = `SELECT (SELECT name FROM identities WHERE id = ?1), (SELECT name FROM services WHERE id = ?2)`;

/** Service ?1's memberships, as a JSON array of [kind, policy id]. */
const SERVICE_MEMBERSHIPS_SQL = `SELECT json_group_array(json_array(policy_kind, policy_id)) FROM policy_members
  WHERE entity_type = 'service' AND entity_id = ?1`;

/** Policy ?1/?2's name and grant type. */
const POLICY_NAME_SQL = `SELECT name, grant_type FROM policy_index_policies WHERE policy_kind = ?1 AND policy_id = ?2`;

/** The routers policy ?1/?2 selects. */
const POLICY_ROUTERS_SQL = `SELECT entity_id FROM policy_members
  WHERE policy_kind = ?1 AND policy_id = ?2 AND entity_type = 'router'`;

const BUMP_GENERATION_SQL = 'UPDATE policy_index_generation SET value = value + 1';

/** The services of the service policies of type ?2 that select identity ?1, once per policy. */
const SERVICES_FOR_IDENTITY_SQL = `SELECT entity_id FROM policy_members
  WHERE policy_kind = 'service' AND entity_type = 'service' AND policy_id IN (
    SELECT m.policy_id FROM policy_members m
    WHERE m.entity_type = 'identity' AND m.entity_id = ?1 AND m.policy_kind = 'service'
    AND (SELECT p.grant_type FROM policy_index_policies p
         WHERE p.policy_kind = 'service' AND p.policy_id = m.policy_id) = ?2)`;

/** The names of the routers whose ids are in the JSON array ?1. */
const ROUTER_NAMES_SQL = `SELECT name FROM routers WHERE id IN (SELECT value FROM json_each(?1))`;

/** What a check needs of one service: its service policies and the routers its policies give it. */
interface ServiceSide {
  readonly servicePolicies: ReadonlySet<string>;
  readonly routers: ReadonlySet<string>;
}

interface PolicyInfo {
  readonly name: string;
  readonly grant: string;
}

/**
 * The small side of a policy check, read from the index's tables on first use and kept: each
 * service's policies and routers, each policy's name and grant type, each router policy's routers.
 * Only the hooks and fixIntegrity change those tables, and each of them bumps
 * policy_index_generation in the same transaction and drops the cache. A cache is used only under
 * the generation it was filled at, so one filled inside a transaction that then rolled back is not
 * used either. Shared by every PolicyIndex over the same database (a reader may make its own);
 * a restore opens a new database and so starts with none. Hooks never read it: apply results
 * cannot depend on it.
 */
class PolicyReadCache {
  readonly services = new Map<string, ServiceSide>();
  readonly policies = new Map<string, PolicyInfo | undefined>();
  readonly policyRouters = new Map<string, readonly string[]>();
  constructor(readonly generation: number) {}
}

const readCaches = new WeakMap<ModelDatabase, PolicyReadCache>();

export class PolicyIndex {
  /** Prepared once per SQL text and reused: preparing costs more than running a lookup. */
  private readonly statements = new Map<string, Statement>();

  constructor(private readonly db: ModelDatabase) {}

  // ---- hooks -------------------------------------------------------------------------------

  servicePolicyChanged(id: string): void {
    this.policyChanged('service', id);
  }

  edgeRouterPolicyChanged(id: string): void {
    this.policyChanged('edgeRouter', id);
  }

  serviceEdgeRouterPolicyChanged(id: string): void {
    this.policyChanged('serviceEdgeRouter', id);
  }

  /** Forgets the policy and its members. Before or after deleting its row. */
  policyDeleted(kind: PolicyKind, id: string): void {
    this.indexChanging();
    const shape = KINDS[kind];
    this.updateMembership(kind, id, {
      oldA: this.members(kind, id, shape.a),
      newA: [],
      oldB: this.members(kind, id, shape.b),
      newB: [],
    });
    this.exec('DELETE FROM policy_roles WHERE policy_kind = ? AND policy_id = ?', [kind, id]);
    this.exec('DELETE FROM policy_index_policies WHERE policy_kind = ? AND policy_id = ?', [kind, id]);
  }

  /**
   * Re-evaluates the one entity against the policies that could select it — those whose role list
   * holds #all, @id of it or one of its attributes, found through policy_roles_by_role — and
   * moves it in or out of each. Call after its row and its entity_attributes rows are written.
   */
  entityChanged(type: IndexedEntityType, id: string): void {
    this.indexChanging();
    if (!this.exists(`SELECT 1 FROM ${ENTITY_TABLES[type]} WHERE id = ?`, [id])) {
      this.entityDeleted(type, id);
      return;
    }
    const matches = new Map<
      string,
      { kind: PolicyKind; policyId: string; named: boolean; matched: number }
    >();
    for (const [kind, policyId, roleKind] of this.rows(CANDIDATE_ROLES_SQL, [type, id])) {
      const key = policyKey(String(kind), String(policyId));
      let candidate = matches.get(key);
      if (!candidate) {
        candidate = {
          kind: String(kind) as PolicyKind,
          policyId: String(policyId),
          named: false,
          matched: 0,
        };
        matches.set(key, candidate);
      }
      if (roleKind === 'attribute') candidate.matched++;
      else candidate.named = true;
    }
    const selecting = new Map<string, { kind: PolicyKind; policyId: string }>();
    for (const [key, { kind, policyId, named, matched }] of matches) {
      const [row] = this.rows(POLICY_SIDE_SQL, [kind, policyId, type]);
      if (!row) continue;
      const [semantic, attributeRoles] = row;
      // #all and @id select outright; the semantic decides over the #attr roles.
      if (named || (matched > 0 && (semantic === 'AnyOf' || matched === Number(attributeRoles)))) {
        selecting.set(key, { kind, policyId });
      }
    }
    for (const m of this.membershipsOf(type, id)) {
      if (!selecting.delete(policyKey(m.kind, m.policyId))) this.leave(m.kind, m.policyId, type, id);
    }
    for (const p of selecting.values()) this.join(p.kind, p.policyId, type, id);
  }

  /** Takes the entity out of every policy that selects it. Before or after deleting its row. */
  entityDeleted(type: IndexedEntityType, id: string): void {
    this.indexChanging();
    for (const m of this.membershipsOf(type, id)) this.leave(m.kind, m.policyId, type, id);
  }

  // ---- queries -----------------------------------------------------------------------------

  /**
   * Whether the identity may dial or bind the service. Dial also needs a router that the
   * identity may use (edge router policy), the service may use (service edge router policy) and
   * that is not disabled.
   */
  policyCheck(identityId: string, serviceId: string, type: ServicePolicyType): PolicyCheck {
    const [generation, identityJson, disabledJson] = this.rows(CHECK_SQL, [identityId])[0] ?? [];
    const cache = this.readCache(Number(generation));
    const memberships = parseMemberships(identityJson);
    const service = this.serviceSide(cache, serviceId);
    const policies: PolicyRef[] = [];
    for (const [kind, policyId] of memberships) {
      if (kind !== 'service' || !service.servicePolicies.has(policyId)) continue;
      const info = this.policyInfo(cache, kind, policyId);
      if (info?.grant === type) policies.push({ id: policyId, name: info.name });
    }
    if (policies.length > 1) {
      policies.sort((x, y) => compareStrings(x.name, y.name) || compareStrings(x.id, y.id));
    }
    const disabled = disabledRouters(disabledJson);
    const routed = type === 'Bind' || this.usable(cache, memberships, service, disabled);
    if (policies.length > 0 && routed) return { allowed: true, policies, missing: [] };
    return {
      allowed: false,
      policies,
      missing: this.explain(
        identityId,
        serviceId,
        type,
        policies.length > 0 ? undefined : type,
        routed ? undefined : this.routes(cache, memberships, service),
      ),
    };
  }

  /** The services the identity may dial (or bind), by id. */
  servicesForIdentity(identityId: string, type: ServicePolicyType): string[] {
    return distinct(this.column(SERVICES_FOR_IDENTITY_SQL, [identityId, type]));
  }

  /** The routers edge router policies give the identity, disabled ones included. */
  routersForIdentity(identityId: string): string[] {
    return distinct(this.column(routersGivenBy('edgeRouter', 'identity', '?1'), [identityId]));
  }

  /** The routers service edge router policies give the service, disabled ones included. */
  routersForService(serviceId: string): string[] {
    return distinct(this.column(routersGivenBy('serviceEdgeRouter', 'service', '?1'), [serviceId]));
  }

  // ---- integrity ---------------------------------------------------------------------------

  /**
   * The whole index computed from scratch, from the entity and policy tables only (role
   * attributes from their JSON columns), by a plain in-memory evaluation that shares nothing with
   * the incremental SQL but the parsing of role lists.
   */
  recompute(): IndexContents {
    const populations = new Map<IndexedEntityType, Population>();
    const entityAttributes: EntityAttributeRow[] = [];
    for (const type of ENTITY_TYPES) {
      const population: Population = { ids: [], byAttribute: new Map() };
      for (const row of this.db.all(`SELECT id, role_attributes FROM ${ENTITY_TABLES[type]} ORDER BY id`)) {
        const id = String(row.id);
        population.ids.push(id);
        for (const attribute of parseStringList(row.role_attributes) ?? []) {
          let holders = population.byAttribute.get(attribute);
          if (!holders) population.byAttribute.set(attribute, (holders = new Set()));
          if (holders.has(id)) continue;
          holders.add(id);
          entityAttributes.push({ entityType: type, entityId: id, attribute });
        }
      }
      populations.set(type, population);
    }
    const policies: IndexedPolicyRow[] = [];
    const policyRoles: PolicyRoleRow[] = [];
    const policyMembers: PolicyMemberRow[] = [];
    for (const kind of POLICY_KINDS) {
      const shape = KINDS[kind];
      const typeColumn = shape.typed ? ', type' : ", '' AS type";
      for (const row of this.db.all(
        `SELECT id, name, semantic, ${shape.aRoles} AS a, ${shape.bRoles} AS b${typeColumn} FROM ${shape.policyTable}`,
      )) {
        const policyId = String(row.id);
        const semantic = toSemantic(row.semantic);
        const grantType = String(row.type);
        policies.push({ policyKind: kind, policyId, name: String(row.name), semantic, grantType });
        for (const [entityType, list] of [
          [shape.a, row.a],
          [shape.b, row.b],
        ] as const) {
          const roles = roleRows(parseRoleList(list));
          for (const r of roles) policyRoles.push({ policyKind: kind, policyId, entityType, ...r });
          for (const entityId of select(roles, semantic, populations.get(entityType)))
            policyMembers.push({ policyKind: kind, policyId, entityType, entityId });
        }
      }
    }
    const contents: IndexContents = {
      entityAttributes,
      policies,
      policyRoles,
      policyMembers,
    };
    return sortContents(contents);
  }

  /** The index as stored, in the shape of `recompute()`. */
  stored(): IndexContents {
    const contents: Record<string, Record<string, SqlValue>[]> = {};
    for (const t of TABLES) {
      const rows = this.db.all(
        `SELECT ${t.columns.join(', ')} FROM ${t.table}${t.where ? ` WHERE ${t.where}` : ''}`,
      );
      contents[t.field] = rows.map((row) =>
        Object.fromEntries(t.columns.map((c, i) => [t.fields[i] ?? c, row[c] ?? null])),
      );
    }
    return sortContents(contents as unknown as IndexContents);
  }

  /** Compares the stored index with the recomputation; `problems` names each difference. */
  checkIntegrity(): IntegrityReport {
    return compare(this.stored(), this.recompute());
  }

  /**
   * Replaces the stored index with the recomputation (inside a savepoint: all or nothing) and
   * reports what was wrong before. In a cluster this must run as a replicated command so that
   * every node repairs the same way.
   */
  fixIntegrity(): IntegrityReport {
    const expected = this.recompute();
    const report = compare(this.stored(), expected);
    if (report.ok) return report;
    this.db.savepoint(() => {
      this.indexChanging();
      for (const t of TABLES) {
        this.db.run(`DELETE FROM ${t.table}${t.where ? ` WHERE ${t.where}` : ''}`);
        const insert = `INSERT INTO ${t.table} (${t.columns.join(', ')}) VALUES (${t.columns.map(() => '?').join(', ')})`;
        for (const row of expected[t.field] as readonly object[]) {
          const r = row as Record<string, SqlValue>;
          this.exec(
            insert,
            t.fields.map((f) => r[f] ?? null),
          );
        }
      }
    });
    return report;
  }

  // ---- incremental maintenance -------------------------------------------------------------

  private policyChanged(kind: PolicyKind, id: string): void {
    this.indexChanging();
    const shape = KINDS[kind];
    const typeColumn = shape.typed ? 'type' : "''";
    const [row] = this.rows(
      `SELECT semantic, ${shape.aRoles}, ${shape.bRoles}, ${typeColumn}, name FROM ${shape.policyTable} WHERE id = ?`,
      [id],
    );
    if (!row) {
      this.policyDeleted(kind, id);
      return;
    }
    const semantic = toSemantic(row[0]);
    const grant = String(row[3]);
    this.exec(
      `INSERT INTO policy_index_policies (policy_kind, policy_id, name, semantic, grant_type) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT DO UPDATE SET name = excluded.name, semantic = excluded.semantic, grant_type = excluded.grant_type`,
      [kind, id, String(row[4]), semantic, grant],
    );
    this.exec('DELETE FROM policy_roles WHERE policy_kind = ? AND policy_id = ?', [kind, id]);
    const insertRole =
      'INSERT INTO policy_roles (policy_kind, policy_id, entity_type, role_kind, value) VALUES (?, ?, ?, ?, ?)';
    const aRoles = roleRows(parseRoleList(row[1]));
    const bRoles = roleRows(parseRoleList(row[2]));
    for (const r of aRoles) this.exec(insertRole, [kind, id, shape.a, r.roleKind, r.value]);
    for (const r of bRoles) this.exec(insertRole, [kind, id, shape.b, r.roleKind, r.value]);
    this.updateMembership(kind, id, {
      oldA: this.members(kind, id, shape.a),
      newA: this.selectFromRoles(kind, id, shape.a, aRoles, semantic),
      oldB: this.members(kind, id, shape.b),
      newB: this.selectFromRoles(kind, id, shape.b, bRoles, semantic),
    });
  }

  /** Moves the policy from its old members to the new ones, touching only those that change. */
  private updateMembership(
    kind: PolicyKind,
    policyId: string,
    change: {
      oldA: readonly string[];
      newA: readonly string[];
      oldB: readonly string[];
      newB: readonly string[];
    },
  ): void {
    const shape = KINDS[kind];
    for (const id of difference(change.oldA, change.newA)) this.leave(kind, policyId, shape.a, id);
    for (const id of difference(change.oldB, change.newB)) this.leave(kind, policyId, shape.b, id);
    for (const id of difference(change.newB, change.oldB)) this.join(kind, policyId, shape.b, id);
    for (const id of difference(change.newA, change.oldA)) this.join(kind, policyId, shape.a, id);
  }

  private join(kind: PolicyKind, policyId: string, type: IndexedEntityType, id: string): void {
    this.exec(
      'INSERT INTO policy_members (policy_kind, policy_id, entity_type, entity_id) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
      [kind, policyId, type, id],
    );
  }

  private leave(kind: PolicyKind, policyId: string, type: IndexedEntityType, id: string): void {
    this.exec(
      'DELETE FROM policy_members WHERE policy_kind = ? AND policy_id = ? AND entity_type = ? AND entity_id = ?',
      [kind, policyId, type, id],
    );
  }

  /** The ids one side of a policy selects now, from its stored roles and entity_attributes. */
  private selectFromRoles(
    kind: PolicyKind,
    policyId: string,
    type: IndexedEntityType,
    roles: readonly RoleRow[],
    semantic: Semantic,
  ): string[] {
    if (roles.length === 0) return [];
    const table = ENTITY_TABLES[type];
    if (roles.some((r) => r.roleKind === 'all')) return this.column(`SELECT id FROM ${table}`, []);
    const named = this.column(
      `SELECT r.value FROM policy_roles r
       WHERE r.policy_kind = ?1 AND r.policy_id = ?2 AND r.entity_type = '${type}' AND r.role_kind = 'id'
       AND (SELECT 1 FROM ${table} e WHERE e.id = r.value)`,
      [kind, policyId],
    );
    const attributeRoles = roles.filter((r) => r.roleKind === 'attribute').length;
    if (attributeRoles === 0) return named;
    const needed = semantic === 'AnyOf' ? 1 : attributeRoles;
    const carrying = this.column(
      `SELECT a.entity_id FROM entity_attributes a
       WHERE a.entity_type = '${type}' AND a.attribute IN (
         SELECT r.value FROM policy_roles r WHERE r.policy_kind = ?1 AND r.policy_id = ?2
         AND r.entity_type = '${type}' AND r.role_kind = 'attribute')
       AND (SELECT 1 FROM ${table} e WHERE e.id = a.entity_id)
       GROUP BY a.entity_id HAVING count(*) >= ?3`,
      [kind, policyId, needed],
    );
    return [...new Set([...named, ...carrying])];
  }

  private members(kind: PolicyKind, policyId: string, type: IndexedEntityType): string[] {
    return this.column(
      'SELECT entity_id FROM policy_members WHERE policy_kind = ? AND policy_id = ? AND entity_type = ?',
      [kind, policyId, type],
    );
  }

  private membershipsOf(type: IndexedEntityType, id: string): { kind: PolicyKind; policyId: string }[] {
    return this.rows(
      'SELECT policy_kind, policy_id FROM policy_members WHERE entity_type = ? AND entity_id = ?',
      [type, id],
    ).map(([kind, policyId]) => ({ kind: String(kind) as PolicyKind, policyId: String(policyId) }));
  }

  // ---- explaining a denial -----------------------------------------------------------------

  /**
   * Why the check was denied: `ungranted` when no service policy of that type grants it, `routes`
   * when a Dial has no usable router.
   */
  private explain(
    identityId: string,
    serviceId: string,
    type: ServicePolicyType,
    ungranted: ServicePolicyType | undefined,
    routes: Routes | undefined,
  ): string[] {
    const [identityName, serviceName] = this.rows(NAMES_SQL, [identityId, serviceId])[0] ?? [];
    const missing: string[] = [];
    if (identityName === null) missing.push(`identity ${quote(identityId)} does not exist`);
    if (serviceName === null) missing.push(`service ${quote(serviceId)} does not exist`);
    if (missing.length > 0) return missing;
    const identity = `identity ${quote(String(identityName))}`;
    const service = `service ${quote(String(serviceName))}`;
    if (ungranted) missing.push(`no ${type} service policy grants ${identity} ${service}`);
    if (!routes) return missing;
    if (routes.identityRouters.size === 0) missing.push(`no edge router policy gives ${identity} a router`);
    if (routes.serviceRouters.size === 0)
      missing.push(`no service edge router policy gives ${service} a router`);
    if (routes.identityRouters.size === 0 || routes.serviceRouters.size === 0) return missing;
    if (routes.common.length === 0) {
      missing.push(`no router is usable by both ${identity} and ${service}`);
      return missing;
    }
    const names = this.sorted(ROUTER_NAMES_SQL, [JSON.stringify(routes.common)]);
    missing.push(
      `every router usable by both ${identity} and ${service} is disabled: ${names.map(quote).join(', ')}`,
    );
    return missing;
  }

  // ---- the read cache ----------------------------------------------------------------------

  /** The cache filled at `generation`, or a new empty one if it was filled at another. */
  private readCache(generation: number): PolicyReadCache {
    const cached = readCaches.get(this.db);
    if (cached?.generation === generation) return cached;
    const fresh = new PolicyReadCache(generation);
    readCaches.set(this.db, fresh);
    return fresh;
  }

  /** Called by every hook and by fixIntegrity, before they change the index's tables. */
  private indexChanging(): void {
    this.exec(BUMP_GENERATION_SQL, []);
    readCaches.delete(this.db);
  }

  private serviceSide(cache: PolicyReadCache, serviceId: string): ServiceSide {
    let side = cache.services.get(serviceId);
    if (side) return side;
    const [json] = this.rows(SERVICE_MEMBERSHIPS_SQL, [serviceId])[0] ?? [];
    const servicePolicies = new Set<string>();
    const routers = new Set<string>();
    for (const [kind, policyId] of parseMemberships(json)) {
      if (kind === 'service') servicePolicies.add(policyId);
      else if (kind === 'serviceEdgeRouter') {
        for (const r of this.policyRouters(cache, kind, policyId)) routers.add(r);
      }
    }
    side = { servicePolicies, routers };
    cache.services.set(serviceId, side);
    return side;
  }

  private policyInfo(cache: PolicyReadCache, kind: PolicyKind, policyId: string): PolicyInfo | undefined {
    const key = policyKey(kind, policyId);
    if (cache.policies.has(key)) return cache.policies.get(key);
    const [row] = this.rows(POLICY_NAME_SQL, [kind, policyId]);
    const info = row ? { name: String(row[0]), grant: String(row[1]) } : undefined;
    cache.policies.set(key, info);
    return info;
  }

  private policyRouters(cache: PolicyReadCache, kind: PolicyKind, policyId: string): readonly string[] {
    const key = policyKey(kind, policyId);
    let routers = cache.policyRouters.get(key);
    if (!routers) {
      routers = this.column(POLICY_ROUTERS_SQL, [kind, policyId]);
      cache.policyRouters.set(key, routers);
    }
    return routers;
  }

  /** The identity's routers (from its edge router policies) against the service's. */
  /** Whether an enabled router is given to the identity and to the service; stops at the first. */
  private usable(
    cache: PolicyReadCache,
    memberships: readonly Membership[],
    service: ServiceSide,
    disabled: ReadonlySet<string>,
  ): boolean {
    for (const [kind, policyId] of memberships) {
      if (kind !== 'edgeRouter') continue;
      for (const r of this.policyRouters(cache, kind, policyId)) {
        if (service.routers.has(r) && !disabled.has(r)) return true;
      }
    }
    return false;
  }

  /** For a Dial denied for want of a router: the routers of each side and those they share. */
  private routes(cache: PolicyReadCache, memberships: readonly Membership[], service: ServiceSide): Routes {
    const identityRouters = new Set<string>();
    for (const [kind, policyId] of memberships) {
      if (kind !== 'edgeRouter') continue;
      for (const r of this.policyRouters(cache, kind, policyId)) identityRouters.add(r);
    }
    const common = [...identityRouters].filter((r) => service.routers.has(r));
    return { identityRouters, serviceRouters: service.routers, common };
  }

  // ---- statements --------------------------------------------------------------------------

  private statement(sql: string): Statement {
    let stmt = this.statements.get(sql);
    if (!stmt) {
      stmt = this.db.db.prepare(sql);
      this.statements.set(sql, stmt);
    }
    return stmt;
  }

  /** The statement bound to `params`; prepared again if sql.js has freed it meanwhile. */
  private bound(sql: string, params: SqlValue[]): Statement {
    const stmt = this.statement(sql);
    try {
      stmt.bind(params);
      return stmt;
    } catch (err) {
      if (err !== 'Statement closed') throw err;
    }
    this.statements.delete(sql);
    const fresh = this.statement(sql);
    fresh.bind(params);
    return fresh;
  }

  private rows(sql: string, params: SqlValue[]): SqlValue[][] {
    const stmt = this.bound(sql, params);
    try {
      const out: SqlValue[][] = [];
      while (stmt.step()) out.push(stmt.get());
      return out;
    } finally {
      stmt.reset();
    }
  }

  private exists(sql: string, params: SqlValue[]): boolean {
    const stmt = this.bound(sql, params);
    try {
      return stmt.step();
    } finally {
      stmt.reset();
    }
  }

  private column(sql: string, params: SqlValue[]): string[] {
    return this.rows(sql, params).map((row) => String(row[0]));
  }

  /** ORDER BY in SQL made sql.js re-prepare these statements on every run; sorting here does not. */
  private sorted(sql: string, params: SqlValue[]): string[] {
    return this.column(sql, params).sort(compareStrings);
  }

  private exec(sql: string, params: SqlValue[]): void {
    const stmt = this.bound(sql, params);
    try {
      stmt.step();
    } finally {
      stmt.reset();
    }
  }
}

/**
 * The roles of any policy that entity ?2 of type ?1 matches: #all, @?2 and its attributes, with
 * the kind of role. A policy appears once per matching role, so the attribute rows per policy
 * count the attribute roles matched.
 */
const CANDIDATE_ROLES_SQL = `
SELECT policy_kind, policy_id, role_kind FROM policy_roles WHERE entity_type = ?1 AND role_kind = 'all' AND value = ''
UNION ALL
SELECT policy_kind, policy_id, role_kind FROM policy_roles WHERE entity_type = ?1 AND role_kind = 'id' AND value = ?2
UNION ALL
SELECT policy_kind, policy_id, role_kind FROM policy_roles WHERE entity_type = ?1 AND role_kind = 'attribute'
  AND value IN (SELECT attribute FROM entity_attributes WHERE entity_type = ?1 AND entity_id = ?2)`;

/** Policy ?1/?2's semantic and how many #attr roles its list for entity type ?3 holds. */
const POLICY_SIDE_SQL = `
SELECT semantic,
  (SELECT count(*) FROM policy_roles WHERE policy_kind = ?1 AND policy_id = ?2 AND entity_type = ?3
     AND role_kind = 'attribute')
FROM policy_index_policies WHERE policy_kind = ?1 AND policy_id = ?2`;

/** One membership of an entity: [policy kind, policy id]. */
type Membership = readonly [PolicyKind, string];

/** What a Dial needs of routers, and what a denial says of them. */
interface Routes {
  readonly identityRouters: ReadonlySet<string>;
  readonly serviceRouters: ReadonlySet<string>;
  /** The routers given to both, disabled ones included. */
  readonly common: readonly string[];
}

const NO_ROUTERS: ReadonlySet<string> = new Set();

/** The disabled routers' ids from CHECK_SQL's JSON array ('[]' almost always). */
function disabledRouters(json: SqlValue | undefined): ReadonlySet<string> {
  return json === '[]' ? NO_ROUTERS : new Set(parseStringList(json) ?? []);
}

/** A JSON array of [kind, policy id] pairs as CHECK_SQL and SERVICE_MEMBERSHIPS_SQL build them. */
function parseMemberships(json: SqlValue | undefined): Membership[] {
  if (typeof json !== 'string') return [];
  return JSON.parse(json) as Membership[];
}

// ---- role lists ------------------------------------------------------------------------------

type RoleRow = Pick<PolicyRoleRow, 'roleKind' | 'value'>;

/** A JSON array of strings, or undefined when the value is anything else. */
function parseStringList(value: SqlValue | undefined): string[] | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    const parsed: unknown = JSON.parse(value);
    return Array.isArray(parsed) && parsed.every((x) => typeof x === 'string') ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** A role list column parsed; a list that is not valid JSON or not valid roles selects nothing. */
function parseRoleList(value: SqlValue | undefined): ParsedRoles | undefined {
  const list = parseStringList(value);
  if (!list) return undefined;
  const parsed = parseRoles(list);
  return typeof parsed === 'string' ? undefined : parsed;
}

/** The distinct roles of a parsed list, as stored in policy_roles. */
function roleRows(roles: ParsedRoles | undefined): RoleRow[] {
  if (!roles) return [];
  if (roles.all) return [{ roleKind: 'all', value: '' }];
  return [
    ...[...new Set(roles.ids)].map((value) => ({ roleKind: 'id' as const, value })),
    ...[...new Set(roles.attributes)].map((value) => ({ roleKind: 'attribute' as const, value })),
  ];
}

function toSemantic(value: SqlValue | undefined): Semantic {
  return value === 'AnyOf' ? 'AnyOf' : 'AllOf';
}

interface Population {
  readonly ids: string[];
  readonly byAttribute: Map<string, Set<string>>;
}

/** The in-memory evaluation used by `recompute()`: sets of ids, intersected or united. */
function select(roles: readonly RoleRow[], semantic: Semantic, population: Population | undefined): string[] {
  if (!population || roles.length === 0) return [];
  if (roles.some((r) => r.roleKind === 'all')) return [...population.ids];
  const known = new Set(population.ids);
  const named = roles.filter((r) => r.roleKind === 'id' && known.has(r.value)).map((r) => r.value);
  const sets = roles
    .filter((r) => r.roleKind === 'attribute')
    .map((r) => population.byAttribute.get(r.value) ?? new Set<string>());
  let carrying: string[] = [];
  if (sets.length > 0 && semantic === 'AnyOf') carrying = sets.flatMap((s) => [...s]);
  else if (sets.length > 0) {
    const [smallest, ...rest] = [...sets].sort((x, y) => x.size - y.size);
    carrying = [...(smallest ?? [])].filter((id) => rest.every((s) => s.has(id)));
  }
  return [...new Set([...named, ...carrying])];
}

// ---- comparing contents ----------------------------------------------------------------------

function sortContents(contents: IndexContents): IndexContents {
  const sorted: Record<string, unknown> = {};
  for (const t of TABLES) {
    const rows = [...(contents[t.field] as readonly object[])] as Record<string, SqlValue>[];
    const key = (r: Record<string, SqlValue>) => rowKey(t, r);
    rows.sort((x, y) => compareStrings(key(x), key(y)));
    sorted[t.field] = rows;
  }
  return sorted as unknown as IndexContents;
}

function compare(stored: IndexContents, expected: IndexContents): IntegrityReport {
  const problems: string[] = [];
  for (const t of TABLES) {
    const have = byKey(t, stored[t.field]);
    const want = byKey(t, expected[t.field]);
    for (const [key, row] of want) {
      const found = have.get(key);
      if (!found) {
        problems.push(`${t.table}: missing ${describe(t, row)}`);
        continue;
      }
      for (let i = t.keyLength; i < t.columns.length; i++) {
        const field = t.fields[i] ?? '';
        if (String(found[field]) !== String(row[field])) {
          problems.push(
            `${t.table}: ${describe(t, row)} has ${t.columns[i]} ${String(found[field])}, should be ${String(row[field])}`,
          );
        }
      }
    }
    for (const [key, row] of have) {
      if (!want.has(key)) problems.push(`${t.table}: unexpected ${describe(t, row)}`);
    }
  }
  const listed = problems.slice(0, PROBLEM_LIMIT);
  if (problems.length > PROBLEM_LIMIT) listed.push(`… and ${problems.length - PROBLEM_LIMIT} more`);
  return { ok: problems.length === 0, problems: listed };
}

function byKey(t: TableShape, rows: readonly object[]): Map<string, Record<string, SqlValue>> {
  const map = new Map<string, Record<string, SqlValue>>();
  for (const row of rows as Record<string, SqlValue>[]) map.set(rowKey(t, row), row);
  return map;
}

function rowKey(t: TableShape, row: Record<string, SqlValue>): string {
  return t.fields
    .slice(0, t.keyLength)
    .map((f) => String(row[f]))
    .join('\u0000');
}

function describe(t: TableShape, row: Record<string, SqlValue>): string {
  const key = t.columns
    .slice(0, t.keyLength)
    .map((c, i) => `${c}=${String(row[t.fields[i] ?? c])}`)
    .join(', ');
  return `(${key})`;
}

// ---- small things ----------------------------------------------------------------------------

function policyKey(kind: string, id: string): string {
  return `${kind}\u0000${id}`;
}

/** Each value once, sorted (a router is in as many rows as policies give it). */
function distinct(xs: readonly string[]): string[] {
  return [...new Set(xs)].sort(compareStrings);
}

function difference(xs: readonly string[], ys: readonly string[]): string[] {
  const remove = new Set(ys);
  return xs.filter((x) => !remove.has(x));
}

function compareStrings(x: string, y: string): number {
  return x < y ? -1 : x > y ? 1 : 0;
}

function quote(s: string): string {
  return JSON.stringify(s);
}
