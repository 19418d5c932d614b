/**
 * Liveness after the faults end: within a stated bound of virtual time, a leader is elected and a
 * fresh proposal (a marker) commits and applies on every member of the cluster. While it has not,
 * the probe proposes a marker at whichever node leads, again whenever leadership moves on or the
 * write fails.
 */
import type { NodeId } from '../../core/raft/types.js';
import type { Cluster, SimNode } from './cluster.js';
import { Violation } from './violation.js';

const encoder = new TextEncoder();

interface Marker {
  readonly leader: NodeId;
  readonly term: number;
  /** Set once the write applied on the leader that took it. */
  index?: number;
  failed?: boolean;
}

export class LivenessProbe {
  private marker: Marker | undefined;
  private attempts = 0;
  /** Virtual time at which the marker had applied everywhere. */
  doneAt: number | undefined;

  constructor(
    private readonly cluster: Cluster,
    readonly startedAt: number,
    readonly boundMs: number,
  ) {}

  get deadline(): number {
    return this.startedAt + this.boundMs;
  }

  /** Called after each step: true once liveness is shown; throws once the bound is passed. */
  poll(): boolean {
    if (this.doneAt !== undefined) return true;
    const { cluster } = this;
    if (this.marker?.index !== undefined && this.appliedEverywhere(this.marker.index)) {
      this.doneAt = cluster.now;
      cluster.trace.add(
        cluster.now,
        `liveness: marker ${this.marker.index} applied on every member after ${cluster.now - this.startedAt} ms`,
      );
      return true;
    }
    if (cluster.now > this.deadline) this.fail();
    const leader = cluster.leader();
    if (leader && this.needsMarker(leader)) this.propose(leader);
    return false;
  }

  private needsMarker(leader: SimNode): boolean {
    const m = this.marker;
    if (!m || m.failed === true) return true;
    if (m.index !== undefined) return false;
    // A marker proposed in an earlier term may never commit; propose again under the new leader.
    return m.leader !== leader.id || m.term !== leader.term;
  }

  private propose(leader: SimNode): void {
    const replica = leader.replica;
    if (!replica) return;
    const data = encoder.encode(`live${++this.attempts} marker ${this.attempts}`);
    const marker: Marker = { leader: leader.id, term: leader.term };
    this.marker = marker;
    this.cluster.trace.add(this.cluster.now, `liveness: marker ${this.attempts} proposed at ${leader.id}`);
    this.cluster.loop.touch();
    replica.propose(data).then(
      ({ index }) => {
        marker.index = index;
      },
      () => {
        marker.failed = true;
      },
    );
  }

  private appliedEverywhere(index: number): boolean {
    const { checker } = this.cluster;
    const conf = checker.committedConf;
    for (const id of [...conf.voters, ...conf.learners]) {
      const node = this.cluster.get(id);
      if (!node || node.retired) continue;
      if (!node.up || node.sm.applied < index) return false;
    }
    return true;
  }

  private fail(): never {
    const { cluster } = this;
    const conf = cluster.checker.committedConf;
    const members = [...conf.voters, ...conf.learners].map((id) => {
      const n = cluster.get(id);
      if (!n) return `${id}:missing`;
      if (!n.up) return `${id}:down`;
      return `${id}:${n.role[0]}${n.term}/applied ${n.sm.applied}`;
    });
    const m = this.marker;
    const marker = m
      ? `marker at ${m.leader} t${m.term}${m.index === undefined ? '' : ` applied there at ${m.index}`}`
      : 'no marker was proposed';
    throw new Violation(
      'liveness',
      `${this.boundMs} ms after the faults healed (at ${this.startedAt}) the cluster has not applied a fresh ` +
        `proposal everywhere: ${marker}; members ${members.join(' ')}; committed ${cluster.checker.maxCommitted}`,
    );
  }
}
