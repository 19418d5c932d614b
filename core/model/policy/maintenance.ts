/**
 * The hooks that keep the index up to date, run by apply inside the transaction that changes the
 * rows (the contract is in index.ts). Each bumps the index's generation first (read-cache.ts), and
 * none reads the read cache, so apply results cannot depend on it.
 */
import type { ModelDatabase } from '../database.js';
import type { Semantic } from '../roles.js';
import { ENTITY_TABLES, KINDS, policyKey, type IndexedEntityType, type PolicyKind } from './kinds.js';
import { difference } from './ordering.js';
import { indexChanging } from './read-cache.js';
import { roleRows, toSemantic, type RoleRow } from './role-rows.js';

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

const UPSERT_POLICY_SQL = `INSERT INTO policy_index_policies (policy_kind, policy_id, name, semantic, grant_type) VALUES (?, ?, ?, ?, ?)
  ON CONFLICT DO UPDATE SET name = excluded.name, semantic = excluded.semantic, grant_type = excluded.grant_type`;
const INSERT_ROLE_SQL =
  'INSERT INTO policy_roles (policy_kind, policy_id, entity_type, role_kind, value) VALUES (?, ?, ?, ?, ?)';
const DELETE_ROLES_SQL = 'DELETE FROM policy_roles WHERE policy_kind = ? AND policy_id = ?';
const DELETE_POLICY_SQL = 'DELETE FROM policy_index_policies WHERE policy_kind = ? AND policy_id = ?';
const JOIN_SQL =
  'INSERT INTO policy_members (policy_kind, policy_id, entity_type, entity_id) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING';
const LEAVE_SQL =
  'DELETE FROM policy_members WHERE policy_kind = ? AND policy_id = ? AND entity_type = ? AND entity_id = ?';
const MEMBERS_SQL =
  'SELECT entity_id FROM policy_members WHERE policy_kind = ? AND policy_id = ? AND entity_type = ?';
const MEMBERSHIPS_SQL =
  'SELECT policy_kind, policy_id FROM policy_members WHERE entity_type = ? AND entity_id = ?';

interface PolicyMembership {
  readonly kind: PolicyKind;
  readonly policyId: string;
}

/**
 * Re-reads the policy's row and stores its roles and members, touching only the members that
 * change. Call after writing the row (create or update); with no row it is `policyDeleted`.
 */
export function policyChanged(db: ModelDatabase, kind: PolicyKind, id: string): void {
  indexChanging(db);
  const shape = KINDS[kind];
  const typeColumn = shape.typed ? 'type' : "''";
  const [row] = db.rows(
    `SELECT semantic, ${shape.aRoles}, ${shape.bRoles}, ${typeColumn}, name FROM ${shape.policyTable} WHERE id = ?`,
    [id],
  );
  if (!row) {
    policyDeleted(db, kind, id);
    return;
  }
  const semantic = toSemantic(row[0]);
  db.run(UPSERT_POLICY_SQL, [kind, id, String(row[4]), semantic, String(row[3])]);
  db.run(DELETE_ROLES_SQL, [kind, id]);
  const aRoles = roleRows(row[1]);
  const bRoles = roleRows(row[2]);
  for (const r of aRoles) db.run(INSERT_ROLE_SQL, [kind, id, shape.a, r.roleKind, r.value]);
  for (const r of bRoles) db.run(INSERT_ROLE_SQL, [kind, id, shape.b, r.roleKind, r.value]);
  updateMembership(db, kind, id, {
    oldA: members(db, kind, id, shape.a),
    newA: selectFromRoles(db, kind, id, shape.a, aRoles, semantic),
    oldB: members(db, kind, id, shape.b),
    newB: selectFromRoles(db, kind, id, shape.b, bRoles, semantic),
  });
}

/** Forgets the policy and its members. Before or after deleting its row. */
export function policyDeleted(db: ModelDatabase, kind: PolicyKind, id: string): void {
  indexChanging(db);
  const shape = KINDS[kind];
  updateMembership(db, kind, id, {
    oldA: members(db, kind, id, shape.a),
    newA: [],
    oldB: members(db, kind, id, shape.b),
    newB: [],
  });
  db.run(DELETE_ROLES_SQL, [kind, id]);
  db.run(DELETE_POLICY_SQL, [kind, id]);
}

/**
 * Re-evaluates the one entity against the policies that could select it — those whose role list
 * holds #all, @id of it or one of its attributes, found through policy_roles_by_role — and
 * moves it in or out of each. Call after its row and its entity_attributes rows are written.
 */
export function entityChanged(db: ModelDatabase, type: IndexedEntityType, id: string): void {
  indexChanging(db);
  if (!db.exists(`SELECT 1 FROM ${ENTITY_TABLES[type]} WHERE id = ?`, [id])) {
    entityDeleted(db, type, id);
    return;
  }
  const matches = new Map<string, PolicyMembership & { named: boolean; matched: number }>();
  for (const [kind, policyId, roleKind] of db.rows(CANDIDATE_ROLES_SQL, [type, id])) {
    const key = policyKey(String(kind), String(policyId));
    let candidate = matches.get(key);
    if (!candidate) {
      candidate = { kind: String(kind) as PolicyKind, policyId: String(policyId), named: false, matched: 0 };
      matches.set(key, candidate);
    }
    if (roleKind === 'attribute') candidate.matched++;
    else candidate.named = true;
  }
  const selecting = new Map<string, PolicyMembership>();
  for (const [key, { kind, policyId, named, matched }] of matches) {
    const [row] = db.rows(POLICY_SIDE_SQL, [kind, policyId, type]);
    if (!row) continue;
    const [semantic, attributeRoles] = row;
    // #all and @id select outright; the semantic decides over the #attr roles.
    if (named || (matched > 0 && (semantic === 'AnyOf' || matched === Number(attributeRoles)))) {
      selecting.set(key, { kind, policyId });
    }
  }
  for (const m of membershipsOf(db, type, id)) {
    if (!selecting.delete(policyKey(m.kind, m.policyId))) leave(db, m.kind, m.policyId, type, id);
  }
  for (const p of selecting.values()) join(db, p.kind, p.policyId, type, id);
}

/** Takes the entity out of every policy that selects it. Before or after deleting its row. */
export function entityDeleted(db: ModelDatabase, type: IndexedEntityType, id: string): void {
  indexChanging(db);
  for (const m of membershipsOf(db, type, id)) leave(db, m.kind, m.policyId, type, id);
}

/** Moves the policy from its old members to the new ones, touching only those that change. */
function updateMembership(
  db: ModelDatabase,
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
  for (const id of difference(change.oldA, change.newA)) leave(db, kind, policyId, shape.a, id);
  for (const id of difference(change.oldB, change.newB)) leave(db, kind, policyId, shape.b, id);
  for (const id of difference(change.newB, change.oldB)) join(db, kind, policyId, shape.b, id);
  for (const id of difference(change.newA, change.oldA)) join(db, kind, policyId, shape.a, id);
}

/** One row of policy_members: the entity `id` of `type` selected by the policy. */
type Member = readonly [kind: PolicyKind, policyId: string, type: IndexedEntityType, id: string];

function join(db: ModelDatabase, ...member: Member): void {
  db.run(JOIN_SQL, [...member]);
}

function leave(db: ModelDatabase, ...member: Member): void {
  db.run(LEAVE_SQL, [...member]);
}

/** The ids one side of a policy selects now, from its stored roles and entity_attributes. */
function selectFromRoles(
  db: ModelDatabase,
  kind: PolicyKind,
  policyId: string,
  type: IndexedEntityType,
  roles: readonly RoleRow[],
  semantic: Semantic,
): string[] {
  if (roles.length === 0) return [];
  const table = ENTITY_TABLES[type];
  if (roles.some((r) => r.roleKind === 'all')) return db.column(`SELECT id FROM ${table}`);
  const named = db.column(
    `SELECT r.value FROM policy_roles r
     WHERE r.policy_kind = ?1 AND r.policy_id = ?2 AND r.entity_type = '${type}' AND r.role_kind = 'id'
     AND (SELECT 1 FROM ${table} e WHERE e.id = r.value)`,
    [kind, policyId],
  );
  const attributeRoles = roles.filter((r) => r.roleKind === 'attribute').length;
  if (attributeRoles === 0) return named;
  const needed = semantic === 'AnyOf' ? 1 : attributeRoles;
  const carrying = db.column(
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

function members(db: ModelDatabase, kind: PolicyKind, policyId: string, type: IndexedEntityType): string[] {
  return db.column(MEMBERS_SQL, [kind, policyId, type]);
}

function membershipsOf(db: ModelDatabase, type: IndexedEntityType, id: string): PolicyMembership[] {
  return db
    .rows(MEMBERSHIPS_SQL, [type, id])
    .map(([kind, policyId]) => ({ kind: String(kind) as PolicyKind, policyId: String(policyId) }));
}
