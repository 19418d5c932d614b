/**
 * The policy kinds the index keeps and the entity types they select, with the tables and role
 * list columns of each. The apply code names policies and entities to the hooks in these terms.
 */
import type { Collection } from '../entities.js';
import type { RoleEntityType } from '../roles.js';

export type PolicyKind = 'service' | 'edgeRouter' | 'serviceEdgeRouter';
export type IndexedEntityType = 'identity' | 'service' | 'router';
export type ServicePolicyType = 'Dial' | 'Bind';

export interface KindShape {
  readonly policyTable: string;
  /** The two sides of the policy, with the role list column that selects each. */
  readonly a: IndexedEntityType;
  readonly aRoles: string;
  readonly b: IndexedEntityType;
  readonly bRoles: string;
  /** Whether the policy grants a type (Dial/Bind): service policies only. */
  readonly typed: boolean;
}

export const KINDS: Readonly<Record<PolicyKind, KindShape>> = {
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
export const POLICY_KINDS = Object.keys(KINDS) as PolicyKind[];

export const ENTITY_TABLES: Readonly<Record<IndexedEntityType, string>> = {
  identity: 'identities',
  service: 'services',
  router: 'routers',
};
export const ENTITY_TYPES = Object.keys(ENTITY_TABLES) as IndexedEntityType[];

/** Policy collections and how the index names their kind. */
export const POLICY_KIND: Readonly<Partial<Record<Collection, PolicyKind>>> = {
  'service-policies': 'service',
  'edge-router-policies': 'edgeRouter',
  'service-edge-router-policies': 'serviceEdgeRouter',
};

/** The entities with role attributes that policies select (posture checks have them too). */
export const INDEXED_ENTITY: Readonly<Partial<Record<RoleEntityType, IndexedEntityType>>> = {
  identity: 'identity',
  service: 'service',
  router: 'router',
};

/** One key for a policy in maps. */
export function policyKey(kind: string, id: string): string {
  return `${kind}\u0000${id}`;
}
