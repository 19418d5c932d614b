/**
 * What the cluster's clients and operators do, at random: proposals (single and batched, up to
 * 200 bytes each), ReadIndex reads, log compaction, leadership transfers and membership changes
 * (add a learner, let it catch up, promote it; remove a voter, the leader included). The cluster
 * keeps at least 3 voters, and a removed node's id is never used again.
 */
import { RaftError } from '../../core/raft/errors.js';
import type { ConfChange, NodeId, ReadState } from '../../core/raft/types.js';
import type { Cluster, SimNode } from './cluster.js';
import type { SimRng } from './rng.js';
import { encodeCommand } from './state-machine.js';

export interface WorkloadConfig {
  /** Chance per step that a client or operator acts. */
  readonly actionChance: number;
  /** Entries a compaction keeps below its snapshot: small, so lagging nodes need snapshots. */
  readonly maxTrailing: number;
  /** Most members (voters and learners) the cluster grows to. */
  readonly maxMembers: number;
  readonly minVoters: number;
  /** A read unanswered for this long is given up. */
  readonly readTimeoutMs: number;
}

interface PendingRead {
  readonly context: string;
  readonly node: NodeId;
  readonly leader: NodeId;
  readonly term: number;
  readonly startedAt: number;
  readonly attempt: number;
}

type MembershipOp =
  | { readonly kind: 'idle' }
  | { readonly kind: 'adding'; readonly id: NodeId; readonly since: number; lastTry: number }
  | { readonly kind: 'removing'; readonly id: NodeId; readonly since: number; lastTry: number };

const KEYS = 16;
const MAX_READ_ATTEMPTS = 5;

export class Workload {
  readonly counts = {
    proposed: 0,
    proposeRefused: 0,
    reads: 0,
    readsServed: 0,
    readRetries: 0,
    transfers: 0,
    added: 0,
    promoted: 0,
    removed: 0,
  };
  /** Membership changes and transfers stop once faults stop, so that liveness is measurable. */
  operationsEnabled = true;
  private seq = 0;
  private readonly reads = new Map<string, PendingRead>();
  private membership: MembershipOp = { kind: 'idle' };

  constructor(
    private readonly cluster: Cluster,
    private readonly rng: SimRng,
    private readonly config: WorkloadConfig,
  ) {
    cluster.onReadState = (node, rs) => this.onReadState(node, rs);
  }

  /** Called once per step: maybe act, and look after reads and membership in progress. */
  step(): void {
    this.retryStaleReads();
    this.continueMembership();
    if (!this.rng.chance(this.config.actionChance)) return;
    const roll = this.rng.int(100);
    if (roll < 50) this.propose();
    else if (roll < 72) this.read();
    else if (roll < 82) this.compact();
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
    // Mostly at the leader; sometimes at any node, which must refuse unless it leads.
    const node = this.rng.chance(0.85) ? this.cluster.leader() : this.randomUpNode();
    const core = node?.core;
    if (!node || !core) return;
    const batch = this.rng.chance(0.2) ? this.rng.between(2, 5) : 1;
    const data = Array.from({ length: batch }, () => this.command());
    try {
      const p = this.cluster.call(node, 'propose', () =>
        batch === 1 ? core.propose(data[0] as Uint8Array) : core.proposeBatch(data),
      );
      this.counts.proposed += batch;
      this.cluster.trace.add(this.cluster.now, `propose ${batch} at ${node.id} -> ${p.index}/${p.term}`);
    } catch (err) {
      this.refused(node, 'propose', err);
    }
    this.cluster.processReady(node);
  }

  read(node?: SimNode, attempt = 1): void {
    const at = node ?? this.randomUpNode();
    const core = at?.core;
    if (!at || !core) return;
    const context = `r${++this.seq}`;
    this.cluster.checker.startRead(at.id, context);
    try {
      this.cluster.call(at, 'readIndex', () => core.readIndex(context));
    } catch (err) {
      this.refused(at, `read ${context}`, err);
      return;
    }
    this.counts.reads++;
    const st = core.status();
    this.reads.set(context, {
      context,
      node: at.id,
      leader: st.leader,
      term: st.term,
      startedAt: this.cluster.now,
      attempt,
    });
    this.cluster.trace.add(
      this.cluster.now,
      `read ${context} at ${at.id} (leader ${st.leader || '-'} t${st.term})`,
    );
    this.cluster.processReady(at);
  }

  compact(): void {
    const node = this.randomUpNode();
    if (!node) return;
    this.cluster.compact(node.id, this.rng.int(this.config.maxTrailing + 1));
  }

  transfer(): void {
    if (!this.operationsEnabled) return;
    const leader = this.cluster.leader();
    const core = leader?.core;
    if (!leader || !core) return;
    const voters = core.status().conf.voters.filter((id) => id !== leader.id);
    if (voters.length === 0) return;
    const to = this.rng.pick(voters);
    try {
      this.cluster.call(leader, 'transferLeader', () => core.transferLeader(to));
      this.counts.transfers++;
      this.cluster.trace.add(this.cluster.now, `transfer leadership ${leader.id} -> ${to}`);
    } catch (err) {
      this.refused(leader, `transfer to ${to}`, err);
    }
    this.cluster.processReady(leader);
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
      this.membership = { kind: 'adding', id, since: this.cluster.now, lastTry: -Infinity };
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
      const core = leader?.core;
      if (!leader || !core) return;
      if (!conf.learners.includes(op.id)) {
        op.lastTry = now;
        this.proposeChange(leader, { type: 'addLearner', nodeId: op.id });
        return;
      }
      // Promote once the learner has caught up with the leader's commit index.
      const st = core.status();
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
      this.cluster.schedule(this.rng.between(0, 2000), `retire ${id}`, () => this.cluster.retire(id));
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
    const core = leader.core;
    if (!core) return;
    try {
      const p = this.cluster.call(leader, 'proposeConfChange', () => core.proposeConfChange(cc));
      if (cc.type === 'addLearner') this.counts.added++;
      this.cluster.trace.add(
        this.cluster.now,
        `propose ${cc.type} ${cc.nodeId} at ${leader.id} -> ${p.index}/${p.term}`,
      );
    } catch (err) {
      this.refused(leader, `${cc.type} ${cc.nodeId}`, err);
    }
    this.cluster.processReady(leader);
  }

  private onReadState(node: NodeId, rs: ReadState): void {
    const read = this.reads.get(rs.context);
    if (!read) return;
    this.reads.delete(rs.context);
    this.counts.readsServed++;
    this.cluster.trace.add(this.cluster.now, `read ${rs.context} at ${node} served at index ${rs.index}`);
  }

  /** A read whose node lost its leader (or went down) will not be answered: retry it anew. */
  private retryStaleReads(): void {
    if (this.reads.size === 0) return;
    for (const read of [...this.reads.values()]) {
      const node = this.cluster.get(read.node);
      const expired = this.cluster.now - read.startedAt > this.config.readTimeoutMs;
      const moved = !node?.up || node.leader !== read.leader || node.term !== read.term;
      if (!expired && !moved) continue;
      this.reads.delete(read.context);
      if (read.attempt >= MAX_READ_ATTEMPTS) continue;
      this.counts.readRetries++;
      this.read(node?.up ? node : undefined, read.attempt + 1);
    }
  }

  private randomUpNode(): SimNode | undefined {
    const up = this.cluster.upNodes();
    return up.length > 0 ? this.rng.pick(up) : undefined;
  }

  private refused(node: SimNode, what: string, err: unknown): void {
    if (!(err instanceof RaftError)) throw err;
    this.counts.proposeRefused++;
    this.cluster.trace.add(this.cluster.now, `${what} at ${node.id} refused: ${err.code}`);
  }
}

function isMemberOf(conf: { voters: readonly NodeId[]; learners: readonly NodeId[] }, id: NodeId): boolean {
  return conf.voters.includes(id) || conf.learners.includes(id);
}
