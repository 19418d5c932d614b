/**
 * Injected faults per peer, for tests and the demo lab: drop a fraction of what we send to it,
 * delay it, or cut it off entirely (both directions).
 */
import type { NodeId } from '../raft/types.js';
import type { FaultPlan } from './types.js';

export class FaultTable {
  private readonly plans = new Map<NodeId, FaultPlan>();

  constructor(private readonly random: () => number) {}

  set(peer: NodeId, plan: FaultPlan | undefined): void {
    if (plan && (plan.cut || (plan.drop ?? 0) > 0 || (plan.delayMs ?? 0) > 0)) this.plans.set(peer, plan);
    else this.plans.delete(peer);
  }

  /** Whether any peer has a fault: without one, traffic passes untouched. */
  get active(): boolean {
    return this.plans.size > 0;
  }

  isCut(peer: NodeId): boolean {
    return this.plans.get(peer)?.cut === true;
  }

  /** Whether to drop one message (or request) to `peer`: always when cut, else with its `drop` odds. */
  dropsOutgoing(peer: NodeId): boolean {
    const plan = this.plans.get(peer);
    if (!plan) return false;
    return plan.cut === true || (plan.drop !== undefined && plan.drop > 0 && this.random() < plan.drop);
  }

  delayMs(peer: NodeId): number {
    return this.plans.get(peer)?.delayMs ?? 0;
  }
}
