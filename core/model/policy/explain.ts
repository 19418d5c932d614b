/** The reasons a policy check gives for a denial, in an admin's words. */
import type { ModelDatabase } from '../database.js';
import type { ServicePolicyType } from './kinds.js';
import { compareStrings } from './ordering.js';

/** What a Dial needs of routers, and what a denial says of them. */
export interface Routes {
  readonly identityRouters: ReadonlySet<string>;
  readonly serviceRouters: ReadonlySet<string>;
  /** The routers given to both, disabled ones included. */
  readonly common: readonly string[];
}

/** The two names a denial is worded with (null when the entity does not exist). */
const NAMES_SQL = `SELECT (SELECT name FROM identities WHERE id = ?1), (SELECT name FROM services WHERE id = ?2)`;

/** The names of the routers whose ids are in the JSON array ?1. */
const ROUTER_NAMES_SQL = `SELECT name FROM routers WHERE id IN (SELECT value FROM json_each(?1))`;

/**
 * Why the check was denied: `ungranted` when no service policy of that type grants it, `routes`
 * when a Dial has no usable router.
 */
export function explainDenial(
  db: ModelDatabase,
  identityId: string,
  serviceId: string,
  type: ServicePolicyType,
  ungranted: ServicePolicyType | undefined,
  routes: Routes | undefined,
): string[] {
  const [identityName, serviceName] = db.rows(NAMES_SQL, [identityId, serviceId])[0] ?? [];
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
  // ORDER BY in SQL made sql.js re-prepare the statement on every run; sorting here does not.
  const names = db.column(ROUTER_NAMES_SQL, [JSON.stringify(routes.common)]).sort(compareStrings);
  missing.push(
    `every router usable by both ${identity} and ${service} is disabled: ${names.map(quote).join(', ')}`,
  );
  return missing;
}

function quote(s: string): string {
  return JSON.stringify(s);
}
