/**
 * Rows for the query tests, written straight into the tables (not through commands and apply), so
 * that the queries are tested against known contents and nothing else.
 */
import type { SqlValue } from 'sql.js';

import { ModelDatabase } from '../../../core/model/database.js';
import type { RoleEntityType } from '../../../core/model/roles.js';

/** A fresh, migrated, empty model database. */
export function openModel(): Promise<ModelDatabase> {
  return ModelDatabase.open();
}

/** The `n`th minute of 2024 as the node writes timestamps (toISOString). */
export function at(n: number): string {
  return new Date(Date.UTC(2024, 0, 1) + n * 60_000).toISOString();
}

type Row = Record<string, SqlValue | readonly string[] | Record<string, unknown> | boolean>;

/** Inserts `row` (column → value; arrays, objects and booleans encoded as the schema stores them). */
export function insertRow(db: ModelDatabase, table: string, row: Row): void {
  const columns = Object.keys(row);
  const values = Object.values(row).map((v): SqlValue => {
    if (typeof v === 'boolean') return v ? 1 : 0;
    if (v === null || typeof v === 'string' || typeof v === 'number' || v instanceof Uint8Array) return v;
    return JSON.stringify(v);
  });
  db.run(
    `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`,
    values,
  );
}

function withAttributes(
  db: ModelDatabase,
  type: RoleEntityType,
  id: string,
  attributes: readonly string[],
): void {
  for (const attribute of attributes) {
    db.run('INSERT INTO entity_attributes (entity_type, entity_id, attribute) VALUES (?, ?, ?)', [
      type,
      id,
      attribute,
    ]);
  }
}

export interface IdentityFixture {
  readonly id: string;
  readonly name: string;
  readonly type?: string;
  readonly roleAttributes?: readonly string[];
  readonly defaultHostingCost?: number;
  readonly createdAt?: string;
  readonly tags?: Record<string, unknown>;
}

export function insertIdentity(db: ModelDatabase, i: IdentityFixture): void {
  const createdAt = i.createdAt ?? at(0);
  insertRow(db, 'identities', {
    id: i.id,
    name: i.name,
    type: i.type ?? 'Device',
    role_attributes: i.roleAttributes ?? [],
    default_hosting_cost: i.defaultHostingCost ?? 0,
    created_at: createdAt,
    updated_at: createdAt,
    tags: i.tags ?? {},
  });
  withAttributes(db, 'identity', i.id, i.roleAttributes ?? []);
}

export interface RouterFixture {
  readonly id: string;
  readonly name: string;
  readonly roleAttributes?: readonly string[];
  readonly cost?: number;
  readonly disabled?: boolean;
  readonly tunnelerEnabled?: boolean;
}

export function insertRouter(db: ModelDatabase, r: RouterFixture): void {
  insertRow(db, 'routers', {
    id: r.id,
    name: r.name,
    role_attributes: r.roleAttributes ?? [],
    cost: r.cost ?? 0,
    disabled: r.disabled ?? false,
    tunneler_enabled: r.tunnelerEnabled ?? false,
    created_at: at(0),
    updated_at: at(0),
  });
  withAttributes(db, 'router', r.id, r.roleAttributes ?? []);
}

export function insertService(
  db: ModelDatabase,
  s: { id: string; name: string; roleAttributes?: readonly string[]; configs?: readonly string[] },
): void {
  insertRow(db, 'services', {
    id: s.id,
    name: s.name,
    role_attributes: s.roleAttributes ?? [],
    configs: s.configs ?? [],
    created_at: at(0),
    updated_at: at(0),
  });
  withAttributes(db, 'service', s.id, s.roleAttributes ?? []);
}

/** One row in every collection, references resolved: enough to check what each collection shows. */
export function insertOneOfEach(db: ModelDatabase): void {
  insertIdentity(db, { id: 'id-1', name: 'laptop', roleAttributes: ['staff'], tags: { site: 'hq' } });
  insertService(db, { id: 'svc-1', name: 'wiki', roleAttributes: ['web'], configs: ['cfg-1'] });
  insertRouter(db, {
    id: 'er-1',
    name: 'edge-1',
    roleAttributes: ['public'],
    cost: 5,
    tunnelerEnabled: true,
  });
  insertRow(db, 'config_types', {
    id: 'ct-1',
    name: 'intercept.v1',
    schema: { type: 'object' },
    created_at: at(1),
    updated_at: at(1),
  });
  insertRow(db, 'configs', {
    id: 'cfg-1',
    name: 'wiki-intercept',
    config_type_id: 'ct-1',
    data: { addresses: ['wiki.internal'] },
    created_at: at(2),
    updated_at: at(2),
  });
  insertRow(db, 'terminators', {
    id: 'term-1',
    service_id: 'svc-1',
    router_id: 'er-1',
    address: 'tcp:10.0.0.5:443',
    identity_id: null,
    created_at: at(3),
    updated_at: at(3),
  });
  insertRow(db, 'service_policies', {
    id: 'sp-1',
    name: 'staff-dial-web',
    type: 'Dial',
    identity_roles: ['#staff'],
    service_roles: ['#web'],
    posture_check_roles: ['#mfa'],
    created_at: at(4),
    updated_at: at(4),
  });
  insertRow(db, 'edge_router_policies', {
    id: 'erp-1',
    name: 'all-public',
    identity_roles: ['#all'],
    router_roles: ['#public'],
    created_at: at(5),
    updated_at: at(5),
  });
  insertRow(db, 'service_edge_router_policies', {
    id: 'serp-1',
    name: 'web-public',
    semantic: 'AnyOf',
    service_roles: ['#web'],
    router_roles: ['@er-1'],
    created_at: at(6),
    updated_at: at(6),
  });
  insertRow(db, 'posture_checks', {
    id: 'pc-1',
    name: 'mfa',
    type: 'MFA',
    role_attributes: ['mfa'],
    params: { timeoutSeconds: 300 },
    created_at: at(7),
    updated_at: at(7),
  });
  withAttributes(db, 'postureCheck', 'pc-1', ['mfa']);
  insertRow(db, 'admins', {
    id: 'adm-1',
    username: 'admin',
    password_hash: ADMIN_HASH,
    created_at: at(8),
    updated_at: at(8),
  });
}

/** The stored hash of the fixture admin: no query may ever return it. */
export const ADMIN_HASH = 'scrypt$16384$8$1$c2FsdHNhbHQ$ZmFrZWhhc2hmYWtlaGFzaA';
