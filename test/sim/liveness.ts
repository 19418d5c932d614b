/**
 * Liveness after the faults end: within a stated bound of virtual time, a leader is elected and a
 * fresh proposal (a marker) commits and applies on every member of the cluster. While it has not,
 * the probe proposes a marker at whichever node leads, again whenever leadership moves on.
 */
import { RaftError } from '../../core/raft/errors.js';
import type { NodeId } from '../../core/raft/types.js';
import type { Cluster, SimNode } from './cluster.js';
import { Violation } from './violation.js';

const encoder = new TextEncoder();

interface Marker {
  readonly index: number;
  readonly term: number;
  readonly leader: NodeId;
  readonly data: Uint8Array;
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
    if (this.marker && this.committedEverywhere(this.marker)) {
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
    if (!m) return true;
    // A marker proposed in an earlier term may never commit; propose again under the new leader.
    return m.leader !== leader.id || m.term !== leader.term;
  }

  private propose(leader: SimNode): void {
    const core = leader.core;
    if (!core) return;
    const data = encoder.encode(`live${++this.attempts} marker ${this.attempts}`);
    try {
      const p = this.cluster.call(leader, 'propose', () => core.propose(data));
      this.marker = { index: p.index, term: p.term, leader: leader.id, data };
      this.cluster.trace.add(
        this.cluster.now,
        `liveness: marker proposed at ${leader.id} -> ${p.index}/${p.term}`,
      );
    } catch (err) {
      if (!(err instanceof RaftError)) throw err;
    }
    this.cluster.processReady(leader);
  }

  private committedEverywhere(m: Marker): boolean {
    const { checker } = this.cluster;
    const entry = checker.committedEntry(m.index);
    if (!entry || entry.term !== m.term) return false;
    const conf = checker.committedConf;
    for (const id of [...conf.voters, ...conf.learners]) {
      const node = this.cluster.get(id);
      if (!node || node.retired) continue;
      if (!node.up || node.sm.applied < m.index) return false;
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
    const marker = m ? `marker ${m.index}/${m.term} at ${m.leader}` : 'no marker was accepted';
    throw new Violation(
      'liveness',
      `${this.boundMs} ms after the faults healed (at ${this.startedAt}) the cluster has not applied a fresh ` +
        `proposal everywhere: ${marker}; members ${members.join(' ')}; committed ${cluster.checker.maxCommitted}`,
    );
  }
}
