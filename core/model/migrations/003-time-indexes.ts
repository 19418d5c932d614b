/**
 * Migration 3: sorting a list by createdAt or updatedAt reads an index instead of sorting the
 * whole table (about 220 ms at 100k identities without it).
 */
export const migration003 = {
  version: 3,
  name: 'time-indexes',
  sql: `
CREATE INDEX identities_by_created_at ON identities(created_at, id);
CREATE INDEX identities_by_updated_at ON identities(updated_at, id);
CREATE INDEX services_by_created_at ON services(created_at, id);
CREATE INDEX services_by_updated_at ON services(updated_at, id);
CREATE INDEX routers_by_created_at ON routers(created_at, id);
CREATE INDEX routers_by_updated_at ON routers(updated_at, id);
CREATE INDEX terminators_by_created_at ON terminators(created_at, id);
CREATE INDEX terminators_by_updated_at ON terminators(updated_at, id);
CREATE INDEX service_policies_by_created_at ON service_policies(created_at, id);
CREATE INDEX service_policies_by_updated_at ON service_policies(updated_at, id);
CREATE INDEX edge_router_policies_by_created_at ON edge_router_policies(created_at, id);
CREATE INDEX edge_router_policies_by_updated_at ON edge_router_policies(updated_at, id);
CREATE INDEX service_edge_router_policies_by_created_at ON service_edge_router_policies(created_at, id);
CREATE INDEX service_edge_router_policies_by_updated_at ON service_edge_router_policies(updated_at, id);
CREATE INDEX config_types_by_created_at ON config_types(created_at, id);
CREATE INDEX config_types_by_updated_at ON config_types(updated_at, id);
CREATE INDEX configs_by_created_at ON configs(created_at, id);
CREATE INDEX configs_by_updated_at ON configs(updated_at, id);
CREATE INDEX posture_checks_by_created_at ON posture_checks(created_at, id);
CREATE INDEX posture_checks_by_updated_at ON posture_checks(updated_at, id);
CREATE INDEX admins_by_created_at ON admins(created_at, id);
CREATE INDEX admins_by_updated_at ON admins(updated_at, id);
`,
} as const;
