/**
 * The small side of a policy check, read from the index's tables on first use and kept: each
 * service's policies and routers, each policy's name and grant type, each router policy's routers.
 * Only the hooks and fixIntegrity change those tables, and each of them calls `indexChanging`,
 * which bumps policy_index_generation in the same transaction and drops the cache. A cache is used
 * only under the generation it was filled at, so one filled inside a transaction that then rolled
 * back is not used either. Shared by every PolicyIndex over the same database (a reader may make
 * its own); a restore opens a new database and so starts with none. Hooks never read it: apply
 * results cannot depend on it.
 */
import type { SqlValue } from 'sql.js';
import type { ModelDatabase } from '../database.js';
import { policyKey, type PolicyKind } from './kinds.js';

/** What a check needs of one service: its service policies and the routers its policies give it. */
export interface ServiceSide {
  readonly servicePolicies: ReadonlySet<string>;
  readonly routers: ReadonlySet<string>;
}

export interface PolicyInfo {
  readonly name: string;
  readonly grant: string;
}

/** One membership of an entity: [policy kind, policy id]. */
export type Membership = readonly [PolicyKind, string];

/** Service ?1's memberships, as a JSON array of [kind, policy id]. */
const SERVICE_MEMBERSHIPS_SQL = `SELECT json_group_array(json_array(policy_kind, policy_id)) FROM policy_members
  WHERE entity_type = 'service' AND entity_id = ?1`;

/** Policy ?1/?2's name and grant type. */
const POLICY_NAME_SQL = `SELECT name, grant_type FROM policy_index_policies WHERE policy_kind = ?1 AND policy_id = ?2`;

/** The routers policy ?1/?2 selects. */
const POLICY_ROUTERS_SQL = `SELECT entity_id FROM policy_members
  WHERE policy_kind = ?1 AND policy_id = ?2 AND entity_type = 'router'`;

const BUMP_GENERATION_SQL = 'UPDATE policy_index_generation SET value = value + 1';

/** One database's cache, filled at one generation. */
export class PolicyReadCache {
  private readonly services = new Map<string, ServiceSide>();
  private readonly policies = new Map<string, PolicyInfo | undefined>();
  private readonly routers = new Map<string, readonly string[]>();

  constructor(
    private readonly db: ModelDatabase,
    readonly generation: number,
  ) {}

  serviceSide(serviceId: string): ServiceSide {
    let side = this.services.get(serviceId);
    if (side) return side;
    const [json] = this.db.rows(SERVICE_MEMBERSHIPS_SQL, [serviceId])[0] ?? [];
    const servicePolicies = new Set<string>();
    const routers = new Set<string>();
    for (const [kind, policyId] of parseMemberships(json)) {
      if (kind === 'service') servicePolicies.add(policyId);
      else if (kind === 'serviceEdgeRouter') {
        for (const r of this.policyRouters(kind, policyId)) routers.add(r);
      }
    }
    side = { servicePolicies, routers };
    this.services.set(serviceId, side);
    return side;
  }

  policyInfo(kind: PolicyKind, policyId: string): PolicyInfo | undefined {
    const key = policyKey(kind, policyId);
    if (this.policies.has(key)) return this.policies.get(key);
    const [row] = this.db.rows(POLICY_NAME_SQL, [kind, policyId]);
    const info = row ? { name: String(row[0]), grant: String(row[1]) } : undefined;
    this.policies.set(key, info);
    return info;
  }

  /** The routers the policy selects, disabled ones included. */
  policyRouters(kind: PolicyKind, policyId: string): readonly string[] {
    const key = policyKey(kind, policyId);
    let routers = this.routers.get(key);
    if (!routers) {
      routers = this.db.column(POLICY_ROUTERS_SQL, [kind, policyId]);
      this.routers.set(key, routers);
    }
    return routers;
  }
}

const readCaches = new WeakMap<ModelDatabase, PolicyReadCache>();

/** The cache filled at `generation`, or a new empty one if it was filled at another. */
export function readCache(db: ModelDatabase, generation: number): PolicyReadCache {
  const cached = readCaches.get(db);
  if (cached?.generation === generation) return cached;
  const fresh = new PolicyReadCache(db, generation);
  readCaches.set(db, fresh);
  return fresh;
}

/** Called by every hook and by fixIntegrity, before they change the index's tables. */
export function indexChanging(db: ModelDatabase): void {
  db.run(BUMP_GENERATION_SQL);
  readCaches.delete(db);
}

/** A JSON array of [kind, policy id] pairs as json_group_array builds them. */
export function parseMemberships(json: SqlValue | undefined): Membership[] {
  if (typeof json !== 'string') return [];
  return JSON.parse(json) as Membership[];
}
