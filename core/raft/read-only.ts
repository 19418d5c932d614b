/**
 * ReadIndex requests waiting for a heartbeat quorum (thesis §6.4): the leader records its commit
 * index, asks the voters to acknowledge its leadership, and answers every request up to the one a
 * quorum acknowledged.
 */
import type { NodeId } from './types.js';

export interface ReadRequest {
  readonly context: string;
  readonly index: number;
  /** The node that asked: the leader itself or a follower that forwarded the read. */
  readonly from: NodeId;
  readonly acks: Set<NodeId>;
}

export class ReadOnlyQueue {
  private readonly byContext = new Map<string, ReadRequest>();
  private readonly queue: string[] = [];

  add(context: string, index: number, from: NodeId): void {
    if (this.byContext.has(context)) return;
    this.byContext.set(context, { context, index, from, acks: new Set() });
    this.queue.push(context);
  }

  /** Records `from`'s acknowledgement; returns who has acknowledged `context` so far. */
  ack(context: string, from: NodeId): ReadonlySet<NodeId> | undefined {
    const request = this.byContext.get(context);
    if (!request) return undefined;
    request.acks.add(from);
    return request.acks;
  }

  /**
   * Releases `context` and every request queued before it: a quorum acknowledging a later
   * heartbeat confirms the leadership for the earlier requests too.
   */
  release(context: string): ReadRequest[] {
    const at = this.queue.indexOf(context);
    if (at < 0) return [];
    const released = this.queue.splice(0, at + 1).map((c) => this.byContext.get(c) as ReadRequest);
    for (const request of released) this.byContext.delete(request.context);
    return released;
  }

  lastContext(): string | undefined {
    return this.queue[this.queue.length - 1];
  }

  clear(): void {
    this.byContext.clear();
    this.queue.length = 0;
  }
}
