/**
 * Test-only fault injection (MESHDESK_FAULT_INJECTION=1, for the Jepsen suite in test/jepsen/):
 * cuts between real processes through the transport's fault table, and a process that kills
 * itself in the middle of writing a snapshot. The controller builds this only when asked; in
 * production there is no instance, so no route, no storage hook and no self-kill exist.
 */
import type { FaultHooks } from './api/context.js';
import type { NodeId } from './raft/types.js';
import type { SnapshotStep } from './storage/types.js';
import type { FaultPlan, PeerTransport } from './transport/types.js';

export class FaultInjection implements FaultHooks {
  private readonly plans = new Map<NodeId, FaultPlan>();
  private crashAt: SnapshotStep | undefined;
  private transport: PeerTransport | undefined;

  /** The storage's hook (StorageOptions.onSnapshotStep): dies on the spot when armed for `step`. */
  readonly onSnapshotStep = (step: SnapshotStep): void => {
    // SIGKILL, not exit(): nothing may run after this point, exactly as in a power cut.
    if (step === this.crashAt) process.kill(process.pid, 'SIGKILL');
  };

  /** The transport exists only once the node is created, after the storage hook. */
  attach(transport: PeerTransport): void {
    this.transport = transport;
  }

  setPeerFaults(table: Readonly<Record<NodeId, FaultPlan>>): void {
    const transport = this.transport;
    if (!transport) throw new Error('fault injection has no transport yet');
    for (const peer of this.plans.keys()) if (!(peer in table)) transport.setFaults(peer, undefined);
    this.plans.clear();
    for (const [peer, plan] of Object.entries(table)) {
      transport.setFaults(peer, plan);
      this.plans.set(peer, plan);
    }
  }

  peerFaults(): Record<NodeId, FaultPlan> {
    return Object.fromEntries(this.plans);
  }

  crashInNextSnapshot(step: SnapshotStep | undefined): void {
    this.crashAt = step;
  }
}
