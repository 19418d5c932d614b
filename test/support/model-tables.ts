/** The model tables tests compare between nodes, and how to read them in a stable order. */
import type { ModelDatabase } from '../../core/model/database.js';

export const MODEL_TABLES = [
  'identities',
  'services',
  'routers',
  'service_policies',
  'edge_router_policies',
  'service_edge_router_policies',
  'entity_attributes',
] as const;

export function modelContents(
  model: ModelDatabase,
  tables: readonly string[] = MODEL_TABLES,
): Record<string, unknown[]> {
  return Object.fromEntries(tables.map((t) => [t, model.all(`SELECT * FROM ${t} ORDER BY 1, 2`)]));
}
