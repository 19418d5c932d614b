/**
 * Migration 1: the entities of the model. Every entity has id, created_at, updated_at, revision
 * (for compare-and-set) and tags (a JSON object). List-valued fields (role attributes, role
 * lists, config ids) are JSON arrays; role attributes are also kept one per row in
 * entity_attributes so that policies can find the entities they select with an index.
 */
export const migration001 = {
  version: 1,
  name: 'entities',
  sql: `
CREATE TABLE identities (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  type TEXT NOT NULL,
  role_attributes TEXT NOT NULL DEFAULT '[]',
  default_hosting_precedence TEXT NOT NULL DEFAULT 'default',
  default_hosting_cost INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  revision INTEGER NOT NULL DEFAULT 1,
  tags TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE services (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  role_attributes TEXT NOT NULL DEFAULT '[]',
  configs TEXT NOT NULL DEFAULT '[]',
  encryption_required INTEGER NOT NULL DEFAULT 1,
  terminator_strategy TEXT NOT NULL DEFAULT 'smartrouting',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  revision INTEGER NOT NULL DEFAULT 1,
  tags TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE routers (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  role_attributes TEXT NOT NULL DEFAULT '[]',
  cost INTEGER NOT NULL DEFAULT 0,
  no_traversal INTEGER NOT NULL DEFAULT 0,
  disabled INTEGER NOT NULL DEFAULT 0,
  tunneler_enabled INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  revision INTEGER NOT NULL DEFAULT 1,
  tags TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE terminators (
  id TEXT PRIMARY KEY,
  service_id TEXT NOT NULL REFERENCES services(id),
  router_id TEXT NOT NULL REFERENCES routers(id),
  address TEXT NOT NULL,
  identity_id TEXT REFERENCES identities(id),
  cost INTEGER NOT NULL DEFAULT 0,
  precedence TEXT NOT NULL DEFAULT 'default',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  revision INTEGER NOT NULL DEFAULT 1,
  tags TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX terminators_service ON terminators(service_id);
CREATE INDEX terminators_router ON terminators(router_id);
CREATE TABLE service_policies (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  type TEXT NOT NULL,
  semantic TEXT NOT NULL DEFAULT 'AllOf',
  identity_roles TEXT NOT NULL DEFAULT '[]',
  service_roles TEXT NOT NULL DEFAULT '[]',
  posture_check_roles TEXT NOT NULL DEFAULT '[]',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  revision INTEGER NOT NULL DEFAULT 1,
  tags TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE edge_router_policies (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  semantic TEXT NOT NULL DEFAULT 'AllOf',
  identity_roles TEXT NOT NULL DEFAULT '[]',
  router_roles TEXT NOT NULL DEFAULT '[]',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  revision INTEGER NOT NULL DEFAULT 1,
  tags TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE service_edge_router_policies (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  semantic TEXT NOT NULL DEFAULT 'AllOf',
  service_roles TEXT NOT NULL DEFAULT '[]',
  router_roles TEXT NOT NULL DEFAULT '[]',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  revision INTEGER NOT NULL DEFAULT 1,
  tags TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE config_types (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  schema TEXT NOT NULL DEFAULT '{}',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  revision INTEGER NOT NULL DEFAULT 1,
  tags TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE configs (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  config_type_id TEXT NOT NULL REFERENCES config_types(id),
  data TEXT NOT NULL DEFAULT '{}',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  revision INTEGER NOT NULL DEFAULT 1,
  tags TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX configs_type ON configs(config_type_id);
CREATE TABLE posture_checks (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  type TEXT NOT NULL,
  role_attributes TEXT NOT NULL DEFAULT '[]',
  params TEXT NOT NULL DEFAULT '{}',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  revision INTEGER NOT NULL DEFAULT 1,
  tags TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE admins (
  id TEXT PRIMARY KEY,
  username TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  revision INTEGER NOT NULL DEFAULT 1,
  tags TEXT NOT NULL DEFAULT '{}'
);
-- Role attributes of identities, services, routers and posture checks, one row each.
CREATE TABLE entity_attributes (
  entity_type TEXT NOT NULL,
  entity_id TEXT NOT NULL,
  attribute TEXT NOT NULL,
  PRIMARY KEY (entity_type, entity_id, attribute)
) WITHOUT ROWID;
CREATE INDEX entity_attributes_by_attribute ON entity_attributes(entity_type, attribute, entity_id);
`,
} as const;
