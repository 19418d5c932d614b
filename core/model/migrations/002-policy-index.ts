/**
 * Migration 2: the policy index (core/model/policy/), derived from the entity and policy
 * tables at write time so that a policy check is a few primary-key lookups. Nothing here is a
 * source of truth: `PolicyIndex.recompute()` rebuilds all of it from the tables of migration 1.
 *
 * policy_kind is 'service' | 'edgeRouter' | 'serviceEdgeRouter'; entity_type is 'identity' |
 * 'service' | 'router', the same words as entity_attributes.
 */
export const migration002 = {
  version: 2,
  name: 'policy-index',
  sql: `
-- Every policy the index has taken in, with what it grants, so a change can be undone from here
-- after the policy row itself has been rewritten or deleted; the name saves a policy check a
-- second lookup in the policy's own table.
CREATE TABLE policy_index_policies (
  policy_kind TEXT NOT NULL,
  policy_id TEXT NOT NULL,
  name TEXT NOT NULL,
  semantic TEXT NOT NULL,
  grant_type TEXT NOT NULL, -- 'Dial' | 'Bind' for service policies, '' for the others
  PRIMARY KEY (policy_kind, policy_id)
) WITHOUT ROWID;

-- Each policy's role lists, parsed: one row per distinct role of each side. role_kind is 'all'
-- (value ''), 'id' (value = entity id) or 'attribute' (value = attribute, without the #).
-- Looked up by role to find the policies that could select an entity that changed.
CREATE TABLE policy_roles (
  policy_kind TEXT NOT NULL,
  policy_id TEXT NOT NULL,
  entity_type TEXT NOT NULL,
  role_kind TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (policy_kind, policy_id, entity_type, role_kind, value)
) WITHOUT ROWID;
CREATE INDEX policy_roles_by_role ON policy_roles(entity_type, role_kind, value);

-- Which entities each policy selects now.
CREATE TABLE policy_members (
  policy_kind TEXT NOT NULL,
  policy_id TEXT NOT NULL,
  entity_type TEXT NOT NULL,
  entity_id TEXT NOT NULL,
  PRIMARY KEY (policy_kind, policy_id, entity_type, entity_id)
) WITHOUT ROWID;
CREATE INDEX policy_members_by_entity ON policy_members(entity_type, entity_id, policy_kind);

-- Access, reference counted: policy_count is the number of policies granting the row; a row
-- exists only while that number is above zero.
CREATE TABLE identity_service_access (
  identity_id TEXT NOT NULL,
  type TEXT NOT NULL, -- 'Dial' | 'Bind'
  service_id TEXT NOT NULL,
  policy_count INTEGER NOT NULL,
  PRIMARY KEY (identity_id, type, service_id)
) WITHOUT ROWID;
CREATE INDEX identity_service_access_by_service ON identity_service_access(service_id, type, identity_id);

CREATE TABLE identity_router_access (
  identity_id TEXT NOT NULL,
  router_id TEXT NOT NULL,
  policy_count INTEGER NOT NULL,
  PRIMARY KEY (identity_id, router_id)
) WITHOUT ROWID;
CREATE INDEX identity_router_access_by_router ON identity_router_access(router_id, identity_id);

CREATE TABLE service_router_access (
  service_id TEXT NOT NULL,
  router_id TEXT NOT NULL,
  policy_count INTEGER NOT NULL,
  PRIMARY KEY (service_id, router_id)
) WITHOUT ROWID;
CREATE INDEX service_router_access_by_router ON service_router_access(router_id, service_id);
`,
} as const;
