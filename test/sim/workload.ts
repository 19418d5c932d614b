/**
 * What the cluster's clients and operators do, at random, through the Replica's own API:
 * writes (at the leader mostly, else forwarded by a follower; several in one step are one group
 * commit), linearizable reads, snapshots, leadership transfers and membership changes (add a
 * learner, let it catch up, promote it; remove a voter, the leader included). The cluster keeps
 * at least 3 voters, and a removed node's id is never used again.
 */
import type { ConfChange, NodeId } from '../../core/raft/types.js';
import { ReplicaError } from '../../core/replication/errors.js';
import type { Cluster, SimNode } from './cluster.js';
import type { SimRng } from './rng.js';
import { encodeCommand } from './state-machine.js';
import { Violation } from './violation.js';

export interface WorkloadConfig {
  /** Chance per step that a client or operator acts. */
  readonly actionChance: number;
  /** Most members (voters and learners) the cluster grows to. */
  readonly maxMembers: number;
  readonly minVoters: number;
}

type MembershipOp =
  | { readonly kind: 'idle' }
  | {
      readonly kind: 'adding';
      readonly id: NodeId;
      readonly since: number;
      lastTry: number;
      /** When the learner's progress was last looked at. */
      lastLook: number;
    }
  | { readonly kind: 'removing'; readonly id: NodeId; readonly since: number; lastTry: number };

const KEYS = 16;

export class Workload {
  readonly counts = {
    proposed: 0,
    proposeApplied: 0,
    proposeFailed: 0,
    reads: 0,
    readsServed: 0,
    readsFailed: 0,
    snapshots: 0,
    transfers: 0,
    added: 0,
    promoted: 0,
    removed: 0,
    refused: 0,
  };
  /** Membership changes and transfers stop once faults stop, so that liveness is measurable. */
  operationsEnabled = true;
  private seq = 0;
  private membership: MembershipOp = { kind: 'idle' };

  constructor(
    private readonly cluster: Cluster,
    private readonly rng: SimRng,
    private readonly config: WorkloadConfig,
  ) {}

  /** Called once per step: maybe act, and look after a membership change in progress. */
  step(): void {
    this.continueMembership();
    if (!this.rng.chance(this.config.actionChance)) return;
    const roll = this.rng.int(100);
    if (roll < 50) this.propose();
    else if (roll < 72) this.read();
    else if (roll < 82) this.snapshot();
    else if (roll < 88) this.transfer();
    else this.changeMembership();
  }

  /** Data for one proposal: `<id> <key> <value>`, at most 200 bytes. */
  command(): Uint8Array {
    const id = `p${++this.seq}`;
    const key = `k${this.rng.int(KEYS)}`;
    // Mostly small values, some large ones so that snapshots span many chunks; some deletes.
    const roll = this.rng.int(10);
    const length =
      roll === 0
        ? 0
        : roll < 4
          ? this.rng.between(120, 200 - id.length - key.length - 2)
          : this.rng.between(1, 40);
    let value = '';
    for (let i = 0; i < length; i++) value += String.fromCharCode(97 + this.rng.int(26));
    return encodeCommand(id, key, value);
  }

  propose(): void {
    // Mostly at the leader; sometimes at any node, which forwards it to the leader it knows.
    const node = this.rng.chance(0.85) ? this.cluster.leader() : this.randomUpNode();
    const replica = node?.replica;
    if (!node || !replica) return;
    const count = this.rng.chance(0.2) ? this.rng.between(2, 5) : 1;
    this.counts.proposed += count;
    this.cluster.trace.add(this.cluster.now, `propose ${count} at ${node.id}`);
    for (let i = 0; i < count; i++) {
      this.track(node, 'propose', replica.propose(this.command()), ({ index }) => {
        this.counts.proposeApplied++;
        this.cluster.trace.add(this.cluster.now, `write at ${node.id} applied at ${index}`);
      });
    }
  }

  read(): void {
    const node = this.randomUpNode();
    const replica = node?.replica;
    if (!node || !replica) return;
    const context = `r${++this.seq}`;
    this.cluster.checker.startRead(node.id, context);
    this.counts.reads++;
    this.cluster.trace.add(this.cluster.now, `read ${context} at ${node.id}`);
    this.track(node, `read ${context}`, replica.read('linearizable'), ({ index }) => {
      this.cluster.checker.observeReadState(node.id, { context, index });
      if (replica.appliedIndex() < index) {
        throw new Violation(
          'read-index',
          `read ${context} at ${node.id} answered ${index} before applying it`,
        );
      }
      this.counts.readsServed++;
      this.cluster.trace.add(this.cluster.now, `read ${context} at ${node.id} served at index ${index}`);
    });
  }

  snapshot(): void {
    const node = this.randomUpNode();
    const replica = node?.replica;
    if (!node || !replica) return;
    this.track(node, 'snapshot', replica.snapshotNow(), () => {
      this.counts.snapshots++;
    });
  }

  transfer(): void {
    if (!this.operationsEnabled) return;
    const leader = this.cluster.leader();
    const replica = leader?.replica;
    if (!leader || !replica) return;
    const voters = replica.status().conf.voters.filter((id) => id !== leader.id);
    if (voters.length === 0) return;
    const to = this.rng.pick(voters);
    try {
      replica.transferLeadership(to);
      this.counts.transfers++;
      this.cluster.trace.add(this.cluster.now, `transfer leadership ${leader.id} -> ${to}`);
    } catch (err) {
      this.refused(leader, `transfer to ${to}`, err);
    }
  }

  changeMembership(): void {
    if (!this.operationsEnabled || this.membership.kind !== 'idle') return;
    const conf = this.cluster.checker.committedConf;
    const members = conf.voters.length + conf.learners.length;
    const canAdd = members < this.config.maxMembers;
    const canRemove = conf.voters.length > this.config.minVoters || conf.learners.length > 0;
    if (canAdd && (!canRemove || this.rng.chance(0.5))) {
      // The simulation never forgets a node, so this id was never used, removed nodes included.
      const id = `n${this.cluster.nodes.size + 1}`;
      this.cluster.addNode(id);
      this.membership = {
        kind: 'adding',
        id,
        since: this.cluster.now,
        lastTry: -Infinity,
        lastLook: -Infinity,
      };
    } else if (canRemove) {
      // Remove a learner, a voter, or the leader itself; never below the minimum of voters.
      const leader = this.cluster.leader();
      const candidates =
        conf.voters.length > this.config.minVoters ? [...conf.voters, ...conf.learners] : [...conf.learners];
      const id =
        leader && candidates.includes(leader.id) && this.rng.chance(0.3)
          ? leader.id
          : this.rng.pick(candidates);
      this.membership = { kind: 'removing', id, since: this.cluster.now, lastTry: -Infinity };
    }
    this.continueMembership();
  }

  /** Pushes the membership change in progress one step further, retrying what was lost. */
  private continueMembership(): void {
    const op = this.membership;
    if (op.kind === 'idle') return;
    const conf = this.cluster.checker.committedConf;
    const now = this.cluster.now;
    if (op.kind === 'adding') {
      if (conf.voters.includes(op.id)) {
        this.counts.promoted++;
        this.cluster.trace.add(now, `membership: ${op.id} is a voter`);
        this.membership = { kind: 'idle' };
        return;
      }
      if (!this.operationsEnabled || now - op.lastTry < 500) return;
      const leader = this.cluster.leader();
      const replica = leader?.replica;
      if (!leader || !replica) return;
      if (!conf.learners.includes(op.id)) {
        op.lastTry = now;
        this.proposeChange(leader, { type: 'addLearner', nodeId: op.id });
        return;
      }
      // Promote once the learner has caught up with the leader's commit index (looked at once a tick).
      if (now - op.lastLook < 50) return;
      op.lastLook = now;
      const st = replica.status();
      const pr = st.progress[op.id];
      if (pr && pr.match >= st.commit) {
        op.lastTry = now;
        this.proposeChange(leader, { type: 'addVoter', nodeId: op.id });
      }
      return;
    }
    if (!isMemberOf(conf, op.id)) {
      this.counts.removed++;
      this.cluster.trace.add(now, `membership: ${op.id} removed`);
      const id = op.id;
      // The operator shuts the removed node down a little later.
      this.cluster.schedule(this.rng.between(0, 2000), () => this.cluster.retire(id));
      this.membership = { kind: 'idle' };
      return;
    }
    if (!this.operationsEnabled || now - op.lastTry < 500) return;
    if (conf.voters.includes(op.id) && conf.voters.length <= this.config.minVoters) {
      this.membership = { kind: 'idle' };
      return;
    }
    const leader = this.cluster.leader();
    if (!leader) return;
    op.lastTry = now;
    this.proposeChange(leader, { type: 'removeNode', nodeId: op.id });
  }

  private proposeChange(leader: SimNode, cc: ConfChange): void {
    const replica = leader.replica;
    if (!replica) return;
    if (cc.type === 'addLearner') this.counts.added++;
    this.cluster.trace.add(this.cluster.now, `propose ${cc.type} ${cc.nodeId} at ${leader.id}`);
    this.track(leader, `${cc.type} ${cc.nodeId}`, replica.proposeConfChange(cc), ({ index }) => {
      this.cluster.trace.add(this.cluster.now, `${cc.type} ${cc.nodeId} applied at ${leader.id} at ${index}`);
    });
  }

  /**
   * Follows a Replica call made on `node`: a result or a ReplicaError counts only while the
   * same incarnation runs; anything else thrown is a broken promise of the Replica.
   */
  private track<T>(node: SimNode, what: string, call: Promise<T>, ok: (value: T) => void): void {
    const clock = node.clock;
    this.cluster.loop.touch();
    call.then(
      (value) => {
        if (!clock?.isAlive) return;
        try {
          ok(value);
        } catch (err) {
          this.cluster.fail(this.cluster.violationOf(node, what, err));
        }
      },
      (err: unknown) => {
        if (!clock?.isAlive) return;
        if (what === 'propose') this.counts.proposeFailed++;
        if (what.startsWith('read')) this.counts.readsFailed++;
        this.refused(node, what, err);
      },
    );
  }

  private randomUpNode(): SimNode | undefined {
    const up = this.cluster.upNodes();
    return up.length > 0 ? this.rng.pick(up) : undefined;
  }

  private refused(node: SimNode, what: string, err: unknown): void {
    if (!(err instanceof ReplicaError)) {
      this.cluster.fail(this.cluster.violationOf(node, what, err));
      return;
    }
    this.counts.refused++;
    this.cluster.trace.add(this.cluster.now, `${what} at ${node.id} failed: ${err.code}`);
  }
}

function isMemberOf(conf: { voters: readonly NodeId[]; learners: readonly NodeId[] }, id: NodeId): boolean {
  return conf.voters.includes(id) || conf.learners.includes(id);
}
