/**
 * The runtime's reads of the replicated model: routers, terminators, identities and services by
 * id or name, and the policy index's dial check. Local reads: a router or policy created a moment
 * ago on another node may not be here yet, which the caller sees as unknown and may retry.
 */
import type { SqlValue } from 'sql.js';
import type { ModelDatabase } from '../model/database.js';
import { PolicyIndex } from '../model/policy/index.js';
import type { ModelRouter, ModelTerminator, RuntimeModelView } from './circuit-service.js';

const ROUTER_COLUMNS = 'id, name, cost, no_traversal, disabled';

/** `database` is asked for on every read: a snapshot restore replaces the database object. */
export function modelView(database: () => ModelDatabase): RuntimeModelView {
  const indexes = new WeakMap<ModelDatabase, PolicyIndex>();
  const index = (): PolicyIndex => {
    const db = database();
    let found = indexes.get(db);
    if (!found) indexes.set(db, (found = new PolicyIndex(db)));
    return found;
  };
  const named = (table: string, ref: string): { id: string; name: string } | undefined => {
    const row = database().all(`SELECT id, name FROM ${table} WHERE id = ?1 OR name = ?1 LIMIT 1`, [ref])[0];
    return row ? { id: String(row.id), name: String(row.name) } : undefined;
  };
  return {
    router(ref) {
      const row = database().all(`SELECT ${ROUTER_COLUMNS} FROM routers WHERE id = ?1 OR name = ?1 LIMIT 1`, [
        ref,
      ])[0];
      return row && toRouter(row);
    },
    routers() {
      return database().all(`SELECT ${ROUTER_COLUMNS} FROM routers`).map(toRouter);
    },
    identity: (ref) => named('identities', ref),
    service: (ref) => named('services', ref),
    dialCheck(identityId, serviceId) {
      const check = index().policyCheck(identityId, serviceId, 'Dial');
      return { allowed: check.allowed, missing: check.missing };
    },
    routersForIdentity: (id) => index().routersForIdentity(id),
    routersForService: (id) => index().routersForService(id),
    terminators(serviceId): ModelTerminator[] {
      return database()
        .all('SELECT id, router_id, address, cost FROM terminators WHERE service_id = ?', [serviceId])
        .map((row) => ({
          id: String(row.id),
          routerId: String(row.router_id),
          address: String(row.address),
          cost: Number(row.cost),
        }));
    },
  };
}

function toRouter(row: Record<string, SqlValue>): ModelRouter {
  return {
    id: String(row.id),
    name: String(row.name),
    cost: Number(row.cost),
    noTraversal: Number(row.no_traversal) === 1,
    disabled: Number(row.disabled) === 1,
  };
}
