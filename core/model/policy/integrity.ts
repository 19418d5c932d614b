/**
 * Checking and repairing the index: the whole of it computed again from the entity and policy
 * tables by a plain in-memory evaluation that shares nothing with the incremental SQL
 * (maintenance.ts) but the parsing of role lists, compared with what is stored, and written over
 * it on request.
 */
import type { SqlValue } from 'sql.js';
import type { ModelDatabase } from '../database.js';
import type { Semantic } from '../roles.js';
import {
  ENTITY_TABLES,
  ENTITY_TYPES,
  KINDS,
  POLICY_KINDS,
  type IndexedEntityType,
  type PolicyKind,
} from './kinds.js';
import { compareStrings } from './ordering.js';
import { indexChanging } from './read-cache.js';
import { parseStringList, roleRows, toSemantic, type RoleRow } from './role-rows.js';

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
export interface PolicyRoleRow extends RoleRow {
  readonly policyKind: PolicyKind;
  readonly policyId: string;
  readonly entityType: IndexedEntityType;
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

type Row = Record<string, SqlValue>;

interface Population {
  readonly ids: string[];
  readonly byAttribute: Map<string, Set<string>>;
}

/**
 * The whole index computed from scratch, from the entity and policy tables only (role attributes
 * from their JSON columns).
 */
export function recompute(db: ModelDatabase): IndexContents {
  const populations = new Map<IndexedEntityType, Population>();
  const entityAttributes: EntityAttributeRow[] = [];
  for (const type of ENTITY_TYPES) {
    const population: Population = { ids: [], byAttribute: new Map() };
    for (const row of db.all(`SELECT id, role_attributes FROM ${ENTITY_TABLES[type]} ORDER BY id`)) {
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
    for (const row of db.all(
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
        const roles = roleRows(list);
        for (const r of roles) policyRoles.push({ policyKind: kind, policyId, entityType, ...r });
        for (const entityId of select(roles, semantic, populations.get(entityType)))
          policyMembers.push({ policyKind: kind, policyId, entityType, entityId });
      }
    }
  }
  return sortContents({ entityAttributes, policies, policyRoles, policyMembers });
}

/** The index as stored, in the shape of `recompute()`. */
export function storedContents(db: ModelDatabase): IndexContents {
  const contents: Record<string, Row[]> = {};
  for (const t of TABLES) {
    const rows = db.all(`SELECT ${t.columns.join(', ')} FROM ${t.table}${whereClause(t)}`);
    contents[t.field] = rows.map((row) =>
      Object.fromEntries(t.columns.map((c, i) => [t.fields[i] ?? c, row[c] ?? null])),
    );
  }
  return sortContents(contents as unknown as IndexContents);
}

/** Compares the stored index with the recomputation; `problems` names each difference. */
export function checkIntegrity(db: ModelDatabase): IntegrityReport {
  return compare(storedContents(db), recompute(db));
}

/**
 * Replaces the stored index with the recomputation (inside a savepoint: all or nothing) and
 * reports what was wrong before. In a cluster this must run as a replicated command so that every
 * node repairs the same way.
 */
export function fixIntegrity(db: ModelDatabase): IntegrityReport {
  const expected = recompute(db);
  const report = compare(storedContents(db), expected);
  if (report.ok) return report;
  db.savepoint(() => {
    indexChanging(db);
    for (const t of TABLES) {
      db.run(`DELETE FROM ${t.table}${whereClause(t)}`);
      const insert = `INSERT INTO ${t.table} (${t.columns.join(', ')}) VALUES (${t.columns.map(() => '?').join(', ')})`;
      for (const row of expected[t.field] as readonly object[]) {
        const r = row as Row;
        db.run(
          insert,
          t.fields.map((f) => r[f] ?? null),
        );
      }
    }
  });
  return report;
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

function whereClause(t: TableShape): string {
  return t.where ? ` WHERE ${t.where}` : '';
}

function sortContents(contents: IndexContents): IndexContents {
  const sorted: Record<string, unknown> = {};
  for (const t of TABLES) {
    const rows = [...(contents[t.field] as readonly object[])] as Row[];
    rows.sort((x, y) => compareStrings(rowKey(t, x), rowKey(t, y)));
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

function byKey(t: TableShape, rows: readonly object[]): Map<string, Row> {
  const map = new Map<string, Row>();
  for (const row of rows as Row[]) map.set(rowKey(t, row), row);
  return map;
}

function rowKey(t: TableShape, row: Row): string {
  return t.fields
    .slice(0, t.keyLength)
    .map((f) => String(row[f]))
    .join('\u0000');
}

function describe(t: TableShape, row: Row): string {
  const key = t.columns
    .slice(0, t.keyLength)
    .map((c, i) => `${c}=${String(row[t.fields[i] ?? c])}`)
    .join(', ');
  return `(${key})`;
}
