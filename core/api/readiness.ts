/**
 * "Ready means ready": a node serves admins once its replicated model holds what bootstrap writes
 * — the first admin (bootstrap.ts) — and the composition root has
 * finished starting it (a joining node has applied its own membership, so it has caught up with
 * what the cluster held when it joined). Until then `GET /health` says `starting` (503) and login
 * answers 503 STARTING: a right password is never refused because the admin has not arrived yet.
 * Once ready, a node stays ready: the last admin cannot be deleted.
 */
import type { ModelDatabase } from '../model/database.js';
import { ApiProblem } from './problem.js';

export type Readiness = 'starting' | 'up';

/** Seconds a client should wait before asking a starting node again. */
export const STARTING_RETRY_AFTER_SECONDS = 1;

/** Whether the model holds the bootstrap writes (the replicated half of readiness). */
export function bootstrapApplied(db: ModelDatabase): boolean {
  return db.value('SELECT 1 FROM admins LIMIT 1') !== undefined;
}

/** This node's readiness, decided afresh until it is first up and remembered from then on. */
export class NodeReadiness {
  private up = false;

  constructor(
    private readonly db: () => ModelDatabase,
    /** The composition root's half: whether it has finished starting this node. */
    private readonly started: () => boolean = () => true,
  ) {}

  get state(): Readiness {
    if (!this.up && this.started() && bootstrapApplied(this.db())) this.up = true;
    return this.up ? 'up' : 'starting';
  }
}

/** What a route that needs a ready node answers before then. */
export function startingProblem(): ApiProblem {
  return new ApiProblem(
    503,
    'STARTING',
    'this node is still starting: its first admin has not been created or has not reached it yet; retry shortly',
    [],
    { 'retry-after': String(STARTING_RETRY_AFTER_SECONDS) },
  );
}
