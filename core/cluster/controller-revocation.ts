/**
 * Revoking a removed member's certificates. `meshdesk cluster remove` records the node as retired
 * in the model (core/model/retired-controllers.ts) before it proposes the membership change; a
 * retired node that is out of the membership is revoked: every certificate naming it opens
 * nothing. Its dials to the cluster listener are refused (REVOKED_CERTIFICATE,
 * transport/handshake.ts), its open connections to us are closed when the change applies here,
 * its node-signed API requests are refused, and routers learn of it in the `peers` message and
 * drop it too. A node id is never reused: the machine comes back by joining afresh.
 */
import type { Logger } from 'pino';
import type { ModelDatabase } from '../model/database.js';
import { controllerRetired, retiredControllers } from '../model/retired-controllers.js';
import type { NodeId } from '../raft/types.js';

export interface Membership {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
}

export class ControllerRevocation {
  constructor(
    private readonly db: () => ModelDatabase,
    /** The membership as this node knows it (undefined before the node runs: no one is a member). */
    private readonly membership: () => Membership | undefined,
  ) {}

  /** Whether every certificate of `id` is revoked now: retired, and out of the membership. */
  revoked(id: NodeId): boolean {
    return controllerRetired(this.db(), id) && !isMember(this.membership(), id);
  }

  /** The node ids revoked now, sorted. */
  list(): NodeId[] {
    const retired = retiredControllers(this.db());
    if (retired.length === 0) return retired;
    const conf = this.membership();
    return retired.filter((id) => !isMember(conf, id));
  }

  /** Closes what revoked nodes hold open here (`disconnect` answers whether there was anything). */
  enforce(disconnect: (id: NodeId) => boolean, log: Logger): void {
    for (const id of this.list()) {
      if (disconnect(id))
        log.warn({ peer: id }, 'closed the connections of a removed member: its certificates are revoked');
    }
  }
}

function isMember(conf: Membership | undefined, id: NodeId): boolean {
  return conf !== undefined && (conf.voters.includes(id) || conf.learners.includes(id));
}
