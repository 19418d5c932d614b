/**
 * The controllers removed from the cluster (migration 13), the model's side of revoking a
 * member's certificate. `meshdesk cluster remove` records the node before it proposes the
 * membership change, so no member leaves without its revocation; a record takes effect once its
 * node is out of the membership (core/cluster/controller-revocation.ts). Apply is deterministic:
 * the time comes in the command.
 */
import { forgetControllerCertificate } from './ca-trust.js';
import type { ModelDatabase } from './database.js';

/** Records `nodeId` as retired; false when it already was (the command is idempotent). */
export function retireController(db: ModelDatabase, nodeId: string, at: string): boolean {
  if (controllerRetired(db, nodeId)) return false;
  db.run('INSERT INTO retired_controllers (node_id, retired_at) VALUES (?, ?)', [nodeId, at]);
  forgetControllerCertificate(db, nodeId);
  return true;
}

export function controllerRetired(db: ModelDatabase, nodeId: string): boolean {
  return db.exists('SELECT 1 FROM retired_controllers WHERE node_id = ?', [nodeId]);
}

/** Every retired node id, sorted. */
export function retiredControllers(db: ModelDatabase): string[] {
  return db.all('SELECT node_id FROM retired_controllers ORDER BY node_id').map((r) => String(r.node_id));
}
