/**
 * Policy checks and the lists of what an identity or a service may use, read from the stored
 * members. A check reads the identity's memberships (the large side) in one statement and the rest
 * from the read cache.
 *
 * Statements run often are written without joins. sql.js's SQLite re-prepares a statement that
 * joins tables on a bound parameter every time it is bound again (measured: 20-150 µs a run, ten
 * times a primary-key lookup), and not one made of correlated scalar subqueries and IN lists.
 */
import type { SqlValue } from 'sql.js';
import type { ModelDatabase } from '../database.js';
import { explainDenial, type Routes } from './explain.js';
import type { IndexedEntityType, PolicyKind, ServicePolicyType } from './kinds.js';
import { compareStrings, distinct } from './ordering.js';
import {
  parseMemberships,
  readCache,
  type Membership,
  type PolicyReadCache,
  type ServiceSide,
} from './read-cache.js';
import { parseStringList } from './role-rows.js';

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

/**
 * What a policy check reads of identity ?1 in one statement: the index's generation (see
 * read-cache.ts), the identity's memberships as a JSON array of [kind, policy id] (the large
 * side, never cached), and the disabled routers (routers_disabled, migration 004: usually none).
 */
const CHECK_SQL = `
SELECT (SELECT value FROM policy_index_generation),
  (SELECT json_group_array(json_array(policy_kind, policy_id)) FROM policy_members
   WHERE entity_type = 'identity' AND entity_id = ?1),
  (SELECT json_group_array(id) FROM routers WHERE disabled = 1)`;

/** The services of the service policies of type ?2 that select identity ?1, once per policy. */
const SERVICES_FOR_IDENTITY_SQL = `SELECT entity_id FROM policy_members
  WHERE policy_kind = 'service' AND entity_type = 'service' AND policy_id IN (
    SELECT m.policy_id FROM policy_members m
    WHERE m.entity_type = 'identity' AND m.entity_id = ?1 AND m.policy_kind = 'service'
    AND (SELECT p.grant_type FROM policy_index_policies p
         WHERE p.policy_kind = 'service' AND p.policy_id = m.policy_id) = ?2)`;

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
 * Whether the identity may dial or bind the service. Dial also needs a router that the identity
 * may use (edge router policy), the service may use (service edge router policy) and that is not
 * disabled.
 */
export function policyCheck(
  db: ModelDatabase,
  identityId: string,
  serviceId: string,
  type: ServicePolicyType,
): PolicyCheck {
  const [generation, identityJson, disabledJson] = db.rows(CHECK_SQL, [identityId])[0] ?? [];
  const cache = readCache(db, Number(generation));
  const memberships = parseMemberships(identityJson);
  const service = cache.serviceSide(serviceId);
  const policies: PolicyRef[] = [];
  for (const [kind, policyId] of memberships) {
    if (kind !== 'service' || !service.servicePolicies.has(policyId)) continue;
    const info = cache.policyInfo(kind, policyId);
    if (info?.grant === type) policies.push({ id: policyId, name: info.name });
  }
  if (policies.length > 1) {
    policies.sort((x, y) => compareStrings(x.name, y.name) || compareStrings(x.id, y.id));
  }
  const disabled = disabledRouters(disabledJson);
  const routed = type === 'Bind' || usable(cache, memberships, service, disabled);
  if (policies.length > 0 && routed) return { allowed: true, policies, missing: [] };
  return {
    allowed: false,
    policies,
    missing: explainDenial(
      db,
      identityId,
      serviceId,
      type,
      policies.length > 0 ? undefined : type,
      routed ? undefined : routes(cache, memberships, service),
    ),
  };
}

/** The services the identity may dial (or bind), by id. */
export function servicesForIdentity(
  db: ModelDatabase,
  identityId: string,
  type: ServicePolicyType,
): string[] {
  return distinct(db.column(SERVICES_FOR_IDENTITY_SQL, [identityId, type]));
}

/** The routers edge router policies give the identity, disabled ones included. */
export function routersForIdentity(db: ModelDatabase, identityId: string): string[] {
  return distinct(db.column(routersGivenBy('edgeRouter', 'identity', '?1'), [identityId]));
}

/** The routers service edge router policies give the service, disabled ones included. */
export function routersForService(db: ModelDatabase, serviceId: string): string[] {
  return distinct(db.column(routersGivenBy('serviceEdgeRouter', 'service', '?1'), [serviceId]));
}

const NO_ROUTERS: ReadonlySet<string> = new Set();

/** The disabled routers' ids from CHECK_SQL's JSON array ('[]' almost always). */
function disabledRouters(json: SqlValue | undefined): ReadonlySet<string> {
  return json === '[]' ? NO_ROUTERS : new Set(parseStringList(json) ?? []);
}

/** Whether an enabled router is given to the identity and to the service; stops at the first. */
function usable(
  cache: PolicyReadCache,
  memberships: readonly Membership[],
  service: ServiceSide,
  disabled: ReadonlySet<string>,
): boolean {
  for (const [kind, policyId] of memberships) {
    if (kind !== 'edgeRouter') continue;
    for (const r of cache.policyRouters(kind, policyId)) {
      if (service.routers.has(r) && !disabled.has(r)) return true;
    }
  }
  return false;
}

/** For a Dial denied for want of a router: the routers of each side and those they share. */
function routes(cache: PolicyReadCache, memberships: readonly Membership[], service: ServiceSide): Routes {
  const identityRouters = new Set<string>();
  for (const [kind, policyId] of memberships) {
    if (kind !== 'edgeRouter') continue;
    for (const r of cache.policyRouters(kind, policyId)) identityRouters.add(r);
  }
  const common = [...identityRouters].filter((r) => service.routers.has(r));
  return { identityRouters, serviceRouters: service.routers, common };
}
