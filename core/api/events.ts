/**
 * Live events: entity changes (from the model's `onApplied`) and cluster changes (role, leader,
 * membership, from the replica), each with its Raft index, kept in a bounded ring so that a
 * client can catch up with `since` after a reconnect. Cluster events carry the applied index at
 * which this node observed them.
 */
import type { z } from 'zod';
import type { apiEvent, clusterEvent, entityEvent, runtimeEvent } from '../../contract/index.js';
import type { AppliedBatch, ModelStateMachine } from '../model/state-machine.js';
import type { ConfState } from '../raft/types.js';
import type { Replica } from '../replication/replica.js';
import type { ControllerRuntime } from '../runtime/runtime.js';

// The shapes are the contract's (what GET /events and the live namespace send).
export type EntityEvent = z.infer<typeof entityEvent>;
export type ClusterEvent = z.infer<typeof clusterEvent>;
/** Runtime data (not replicated): this node's link table and the circuits it owns. */
export type RuntimeEvent = z.infer<typeof runtimeEvent>;
export type ApiEvent = z.infer<typeof apiEvent>;

/** The log's answer to `since` (GET /events sends it as the contract's EventPage). */
export interface EventPage {
  readonly data: ApiEvent[];
  /** True when events after `since` were already dropped from the ring: reload, then follow. */
  readonly truncated: boolean;
  readonly latestIndex: number;
}

type Listener = (event: ApiEvent) => void;

export class EventLog {
  private readonly ring: ApiEvent[] = [];
  private seq = 0;
  /** The highest index dropped from the ring (0 when nothing was dropped). */
  private droppedThrough = 0;
  private readonly listeners = new Set<Listener>();

  constructor(private readonly capacity = 10_000) {}

  push(event: EntityEvent | ClusterEvent | RuntimeEvent): void {
    const full: ApiEvent = { ...event, seq: ++this.seq, at: new Date().toISOString() };
    this.ring.push(full);
    if (this.ring.length > this.capacity) {
      const dropped = this.ring.shift();
      if (dropped) this.droppedThrough = Math.max(this.droppedThrough, dropped.index);
    }
    for (const listener of this.listeners) listener(full);
  }

  /** Events with an index above `since`, oldest first, at most `limit`. */
  since(since: number, limit = this.capacity): EventPage {
    const data: ApiEvent[] = [];
    for (const event of this.ring) {
      if (data.length >= limit) break;
      if (event.index > since) data.push(event);
    }
    return {
      data,
      truncated: since < this.droppedThrough,
      latestIndex: this.ring.at(-1)?.index ?? this.droppedThrough,
    };
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

function entityEvents(batch: AppliedBatch): EntityEvent[] {
  const events: EntityEvent[] = [];
  for (const { index, result } of batch.applied) {
    const results = result.op === 'batch' ? result.results : [result];
    for (const r of results) {
      // Settings (such as the signing key) and other non-entity results are not announced.
      if (!('collection' in r) || typeof r.id !== 'string') continue;
      events.push({
        kind: 'entity',
        index,
        op: r.op as EntityEvent['op'],
        collection: r.collection,
        id: r.id,
        revision: r.revision,
      });
    }
  }
  return events;
}

/** Feeds the log from the model and the replica; returns the function that stops it. */
export function recordEvents(log: EventLog, model: ModelStateMachine, replica: Replica): () => void {
  const stopModel = model.onApplied((batch) => {
    for (const event of entityEvents(batch)) log.push(event);
  });
  const onRole = ({ role, term }: { role: string; term: number }) =>
    log.push({ kind: 'cluster', type: 'role', index: replica.appliedIndex(), role, term });
  const onLeader = ({ leader, term }: { leader: string; term: number }) =>
    log.push({ kind: 'cluster', type: 'leader', index: replica.appliedIndex(), leaderId: leader, term });
  const onMembership = ({ conf, index }: { conf: ConfState; index: number }) =>
    log.push({
      kind: 'cluster',
      type: 'membership',
      index,
      voters: [...conf.voters],
      learners: [...conf.learners],
    });
  replica.on('role', onRole);
  replica.on('leader', onLeader);
  replica.on('membership', onMembership);
  return () => {
    stopModel();
    replica.off('role', onRole);
    replica.off('leader', onLeader);
    replica.off('membership', onMembership);
  };
}

/** Feeds the log with link up/down and circuit changes (latency changes are too frequent to log). */
export function recordRuntimeEvents(log: EventLog, runtime: ControllerRuntime, replica: Replica): () => void {
  return runtime.onChange((change) => {
    const index = replica.appliedIndex();
    if (change.type === 'link.up' || change.type === 'link.down') {
      const link = change.link;
      log.push({
        kind: 'runtime',
        index,
        type: change.type,
        id: link.id,
        routers: [link.dialer, link.acceptor],
        ...(change.type === 'link.down' ? { reason: change.reason } : {}),
      });
    } else if (change.type !== 'link.latency') {
      log.push({
        kind: 'runtime',
        index,
        type: change.type,
        id: change.circuit.id,
        routers: [...change.circuit.path.routers],
        ...(change.type === 'circuit.created' ? {} : { reason: change.reason }),
      });
    }
  });
}
