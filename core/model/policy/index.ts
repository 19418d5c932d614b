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
 * - after writing a policy row (create or update): `policyChanged(kind, id)`;
 * - after writing an identity, service or router row AND its entity_attributes rows (create, or a
 *   change of role attributes): `entityChanged`;
 * - when deleting a policy or an entity: `policyDeleted` / `entityDeleted`, before or after
 *   deleting the row — they read only the index's own tables, so either order gives the same result.
 * The change hooks read the current row; finding no row they behave as the matching delete hook.
 * Every hook is idempotent: calling it again without a change in between changes nothing. A
 * router's disabled flag needs no hook: checks read it from the routers table.
 *
 * This class only binds the parts to one database: maintenance.ts (the hooks), checks.ts (and
 * explain.ts, the reasons of a denial), integrity.ts (recompute, compare, repair).
 */
import type { PolicyIndexHooks } from '../apply.js';
import type { ModelDatabase } from '../database.js';
import {
  policyCheck,
  routersForIdentity,
  routersForService,
  servicesForIdentity,
  type PolicyCheck,
} from './checks.js';
import {
  checkIntegrity,
  fixIntegrity,
  recompute,
  storedContents,
  type IndexContents,
  type IntegrityReport,
} from './integrity.js';
import type { IndexedEntityType, PolicyKind, ServicePolicyType } from './kinds.js';
import { entityChanged, entityDeleted, policyChanged, policyDeleted } from './maintenance.js';

export type { PolicyCheck, PolicyRef } from './checks.js';
export type {
  EntityAttributeRow,
  IndexContents,
  IndexedPolicyRow,
  IntegrityReport,
  PolicyMemberRow,
  PolicyRoleRow,
} from './integrity.js';
export type { IndexedEntityType, PolicyKind, ServicePolicyType } from './kinds.js';

export class PolicyIndex implements PolicyIndexHooks {
  constructor(private readonly db: ModelDatabase) {}

  // ---- hooks -------------------------------------------------------------------------------

  policyChanged(kind: PolicyKind, id: string): void {
    policyChanged(this.db, kind, id);
  }

  policyDeleted(kind: PolicyKind, id: string): void {
    policyDeleted(this.db, kind, id);
  }

  entityChanged(type: IndexedEntityType, id: string): void {
    entityChanged(this.db, type, id);
  }

  entityDeleted(type: IndexedEntityType, id: string): void {
    entityDeleted(this.db, type, id);
  }

  // ---- queries -----------------------------------------------------------------------------

  policyCheck(identityId: string, serviceId: string, type: ServicePolicyType): PolicyCheck {
    return policyCheck(this.db, identityId, serviceId, type);
  }

  servicesForIdentity(identityId: string, type: ServicePolicyType): string[] {
    return servicesForIdentity(this.db, identityId, type);
  }

  routersForIdentity(identityId: string): string[] {
    return routersForIdentity(this.db, identityId);
  }

  routersForService(serviceId: string): string[] {
    return routersForService(this.db, serviceId);
  }

  // ---- integrity ---------------------------------------------------------------------------

  recompute(): IndexContents {
    return recompute(this.db);
  }

  stored(): IndexContents {
    return storedContents(this.db);
  }

  checkIntegrity(): IntegrityReport {
    return checkIntegrity(this.db);
  }

  fixIntegrity(): IntegrityReport {
    return fixIntegrity(this.db);
  }
}
