/**
 * The safety properties of Raft (thesis §3.6.3, Figure 3.2) and of our driver contract, checked
 * against everything the simulation observes. The checker keeps its own history of the whole run
 * and never asks the core what is true: it is fed what nodes did (became leader, wrote a hard
 * state, applied an entry, restored a snapshot, answered a read) and what their disks hold.
 * Every check throws a {@link Violation} naming the invariant.
 *
 * "Committed" here means applied by some node: the only evidence of commitment that a client of
 * the cluster could observe.
 */
import { decodeConfChange } from '../../core/raft/confchange.js';
import type { ConfState, Entry, HardState, NodeId, ReadState, SnapshotMeta } from '../../core/raft/types.js';
import { applyChange, describeConf, quorum, sameMembers } from './membership.js';
import type { LogView } from './storage.js';
import { Violation } from './violation.js';

interface CommittedEntry {
  readonly term: number;
  readonly type: Entry['type'];
  readonly data: Uint8Array;
  /** The state machine's digest once every entry up to this one has been applied. */
  readonly digest: string;
  /**
   * An upper bound on the term in which the entry was committed: the lowest term any node was in
   * when it applied it. Leaders of later terms must hold it (Leader Completeness).
   */
  commitTerm: number;
}

interface ReadRecord {
  readonly node: NodeId;
  /** The highest index applied anywhere when the read began: the read must see at least this. */
  readonly floor: number;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sameEntry(a: Entry, b: { type: Entry['type']; term: number; data: Uint8Array }): boolean {
  return a.term === b.term && a.type === b.type && sameBytes(a.data, b.data);
}

export class InvariantChecker {
  /** term → the one node that led it, across the whole run. */
  private readonly leaders = new Map<number, NodeId>();
  /** index → the entry applied there, as first seen; contiguous from 1 to `maxCommitted`. */
  private readonly committed = new Map<number, CommittedEntry>();
  private maxCommittedIndex = 0;
  /** The membership after each committed change, in index order (index 0: the first one). */
  private readonly confs: { index: number; conf: ConfState }[];
  /** node → the last index it applied (reset when it restarts). */
  private readonly applied = new Map<NodeId, number>();
  /** node → the newest (term, vote) it ever wrote, surviving its crashes. */
  private readonly hardStates = new Map<NodeId, { term: number; vote: NodeId }>();
  private readonly reads = new Map<string, ReadRecord>();
  /** Leaders (node@term) already checked in full for Leader Completeness. */
  private readonly checkedLeaders = new Set<string>();
  private leaderCheckedUpTo = 0;
  /** Counters, for the run's summary. */
  readonly counts = { applied: 0, reads: 0, leaders: 0 };

  constructor(initialConf: ConfState) {
    this.confs = [{ index: 0, conf: initialConf }];
  }

  get maxCommitted(): number {
    return this.maxCommittedIndex;
  }

  /** The membership as of the highest committed index. */
  get committedConf(): ConfState {
    return (this.confs[this.confs.length - 1] as { conf: ConfState }).conf;
  }

  confAt(index: number): ConfState {
    let conf = (this.confs[0] as { conf: ConfState }).conf;
    for (const c of this.confs) if (c.index <= index) conf = c.conf;
    return conf;
  }

  committedEntry(index: number): { term: number; type: Entry['type']; data: Uint8Array } | undefined {
    return this.committed.get(index);
  }

  /** Election Safety (§3.6.3): at most one leader per term, over the whole run. */
  observeLeader(node: NodeId, term: number): void {
    const known = this.leaders.get(term);
    if (known === undefined) {
      this.leaders.set(term, node);
      this.counts.leaders++;
    } else if (known !== node) {
      throw new Violation('election-safety', `two leaders in term ${term}: ${known} and ${node}`);
    }
  }

  /** A node wrote a hard state: terms never go back, and a vote once cast in a term never changes. */
  observeHardState(node: NodeId, next: HardState): void {
    const prev = this.hardStates.get(node);
    if (prev) {
      if (next.term < prev.term) {
        throw new Violation('hard-state', `${node} went back from term ${prev.term} to ${next.term}`);
      }
      if (next.term === prev.term && prev.vote !== '' && next.vote !== prev.vote) {
        throw new Violation(
          'double-vote',
          `${node} voted for ${prev.vote} and then for ${next.vote || '(nobody)'} in term ${next.term}`,
        );
      }
    }
    this.hardStates.set(node, { term: next.term, vote: next.vote });
  }

  /** A node (re)started from its disk, whose snapshot is at `snapshotIndex`. */
  observeStart(node: NodeId, snapshotIndex: number): void {
    this.applied.set(node, snapshotIndex);
  }

  /**
   * State Machine Safety (§3.6.3): a node applied `entry` while in `nodeTerm`, and its state
   * machine's digest is now `digest`. Every node applies the same entry at each index, in order.
   */
  observeApply(node: NodeId, entry: Entry, nodeTerm: number, digest: string): void {
    const last = this.applied.get(node) ?? 0;
    if (entry.index !== last + 1) {
      throw new Violation('apply-order', `${node} applied entry ${entry.index} after ${last}`);
    }
    this.applied.set(node, entry.index);
    this.counts.applied++;
    const known = this.committed.get(entry.index);
    if (known) {
      if (!sameEntry(entry, known)) {
        throw new Violation(
          'state-machine-safety',
          `${node} applied ${entry.type} ${entry.index}/${entry.term} (${entry.data.length} bytes) where ` +
            `${known.type} ${entry.index}/${known.term} (${known.data.length} bytes) was applied before`,
        );
      }
      if (known.digest !== digest) {
        throw new Violation(
          'state-machine-safety',
          `${node}'s state machine digest after ${entry.index} is ${digest}, others had ${known.digest}`,
        );
      }
      known.commitTerm = Math.min(known.commitTerm, nodeTerm);
      return;
    }
    if (entry.index !== this.maxCommittedIndex + 1) {
      throw new Violation(
        'apply-order',
        `${node} applied ${entry.index} first, but nothing above ${this.maxCommittedIndex} was ever committed`,
      );
    }
    this.committed.set(entry.index, {
      term: entry.term,
      type: entry.type,
      data: entry.data,
      digest,
      commitTerm: nodeTerm,
    });
    this.maxCommittedIndex = entry.index;
    if (entry.type === 'confChange') {
      const cc = decodeConfChange(entry.data);
      if (!cc)
        throw new Violation(
          'state-machine-safety',
          `committed entry ${entry.index} is not a membership change`,
        );
      const conf = applyChange(this.committedConf, cc);
      if (conf !== this.committedConf) this.confs.push({ index: entry.index, conf });
    }
  }

  /** A node installed a snapshot: it must be of a committed state, and move the node forward. */
  observeRestore(node: NodeId, meta: SnapshotMeta, digest: string, smIndex: number): void {
    const last = this.applied.get(node) ?? 0;
    if (meta.index <= last) {
      throw new Violation('apply-order', `${node} installed snapshot ${meta.index} after applying ${last}`);
    }
    if (meta.index > this.maxCommittedIndex) {
      throw new Violation(
        'snapshot',
        `${node} installed snapshot ${meta.index} above every applied index ${this.maxCommittedIndex}`,
      );
    }
    if (smIndex !== meta.index) {
      throw new Violation('snapshot', `snapshot ${meta.index} holds a state machine at index ${smIndex}`);
    }
    this.checkSnapshotMeta(node, meta, digest);
    this.applied.set(node, meta.index);
  }

  /** A snapshot made or installed anywhere describes the committed history at its index. */
  checkSnapshotMeta(node: NodeId, meta: SnapshotMeta, digest: string): void {
    if (meta.index === 0) return;
    const known = this.committed.get(meta.index);
    if (!known)
      throw new Violation('snapshot', `${node}: snapshot ${meta.index} is of an index never applied`);
    if (known.term !== meta.term) {
      throw new Violation(
        'snapshot',
        `${node}: snapshot ${meta.index} has term ${meta.term}, the committed entry ${known.term}`,
      );
    }
    if (known.digest !== digest) {
      throw new Violation(
        'state-machine-safety',
        `${node}: snapshot ${meta.index} digest ${digest}, committed ${known.digest}`,
      );
    }
    const conf = this.confAt(meta.index);
    if (!sameMembers(conf, meta.conf)) {
      throw new Violation(
        'snapshot',
        `${node}: snapshot ${meta.index} has membership ${describeConf(meta.conf)}, committed ${describeConf(conf)}`,
      );
    }
  }

  /**
   * Leader Completeness (§3.6.3): every current leader holds every entry committed in an earlier
   * term (or a snapshot that covers it). A leader seen for the first time is checked against the
   * whole committed history; known leaders against what was committed since the last call.
   */
  checkLeaders(leaders: readonly { node: NodeId; term: number; log: LogView }[]): void {
    for (const { node, term, log } of leaders) {
      const key = `${node}@${term}`;
      const from = this.checkedLeaders.has(key) ? this.leaderCheckedUpTo + 1 : 1;
      this.checkedLeaders.add(key);
      for (let i = Math.max(from, log.snapshotIndex); i <= this.maxCommittedIndex; i++) {
        const known = this.committed.get(i) as CommittedEntry;
        if (known.commitTerm >= term) continue;
        if (i === log.snapshotIndex && log.entry(i) === undefined) {
          if (log.snapshotTerm !== known.term) {
            throw new Violation(
              'leader-completeness',
              `leader ${node} of term ${term} has snapshot ${i}/${log.snapshotTerm}, committed ${i}/${known.term}`,
            );
          }
          continue;
        }
        const e = log.entry(i);
        if (!e || !sameEntry(e, known)) {
          const has = e ? `${e.index}/${e.term}` : 'nothing';
          throw new Violation(
            'leader-completeness',
            `leader ${node} of term ${term} has ${has} at ${i}, where ${i}/${known.term} was committed by term ${known.commitTerm}`,
          );
        }
      }
    }
    this.leaderCheckedUpTo = this.maxCommittedIndex;
  }

  /**
   * Membership: a node's membership is the one committed as of the index it has applied (changes
   * take effect when applied). A node that has applied nothing yet (a new node) may know none.
   * A node that applied its own removal never campaigns or leads again.
   */
  checkMembership(node: NodeId, applied: number, conf: ConfState, role: string): void {
    if (applied === 0 && conf.voters.length === 0) return;
    const expected = this.confAt(applied);
    if (!sameMembers(conf, expected)) {
      throw new Violation(
        'membership',
        `${node} has applied ${applied} and has membership ${describeConf(conf)}; the committed one there is ${describeConf(expected)}`,
      );
    }
    if (role !== 'follower' && !expected.voters.includes(node)) {
      throw new Violation(
        'membership',
        `${node} is ${role} but is not a voter as of its applied index ${applied}`,
      );
    }
  }

  /** A ReadIndex read began at `node`: it must see everything applied anywhere by now. */
  startRead(node: NodeId, context: string): void {
    if (this.reads.has(context)) throw new Violation('read-index', `read context ${context} was used twice`);
    this.reads.set(context, { node, floor: this.maxCommittedIndex });
  }

  /** Linearizable reads (§6.4): the read point is at or above every write committed before the read. */
  observeReadState(node: NodeId, rs: ReadState): void {
    const read = this.reads.get(rs.context);
    if (!read)
      throw new Violation('read-index', `${node} got a read state for unknown context ${rs.context}`);
    if (read.node !== node) {
      throw new Violation(
        'read-index',
        `read ${rs.context} was asked on ${read.node} but answered on ${node}`,
      );
    }
    if (rs.index < read.floor) {
      throw new Violation(
        'read-index',
        `read ${rs.context} on ${node} got index ${rs.index}, but ${read.floor} was applied before the read began`,
      );
    }
    this.counts.reads++;
  }

  /**
   * Log Matching (§3.6.3): when two logs hold an entry with the same index and term, they are
   * identical up to it. Also: terms never decrease along one log.
   */
  checkLogMatching(logs: ReadonlyMap<NodeId, LogView>): void {
    const views = [...logs.entries()];
    for (const [node, log] of views) {
      let prev = 0;
      for (let i = log.firstIndex; i <= log.lastIndex; i++) {
        const e = log.entry(i);
        if (!e) continue;
        if (e.index !== i)
          throw new Violation('log-matching', `${node}'s log holds entry ${e.index} at position ${i}`);
        if (e.term < prev)
          throw new Violation(
            'log-matching',
            `${node}'s log goes back from term ${prev} to ${e.term} at ${i}`,
          );
        prev = e.term;
      }
    }
    for (let x = 0; x < views.length; x++) {
      for (let y = x + 1; y < views.length; y++) {
        const [na, a] = views[x] as [NodeId, LogView];
        const [nb, b] = views[y] as [NodeId, LogView];
        const lo = Math.max(a.firstIndex, b.firstIndex);
        let k = Math.min(a.lastIndex, b.lastIndex);
        for (; k >= lo; k--) {
          const ea = a.entry(k);
          const eb = b.entry(k);
          if (ea && eb && ea.term === eb.term) break;
        }
        for (let i = lo; i <= k; i++) {
          const ea = a.entry(i);
          const eb = b.entry(i);
          if (ea && eb && !sameEntry(ea, eb)) {
            throw new Violation(
              'log-matching',
              `${na} and ${nb} agree on ${k}/${(a.entry(k) as Entry).term} but differ at ${i}: ` +
                `${ea.type} ${i}/${ea.term} vs ${eb.type} ${i}/${eb.term}`,
            );
          }
        }
      }
    }
  }

  /**
   * No committed entry is lost: the newest committed entry is on the synced disk (or under the
   * synced snapshot) of enough voters that every quorum of the membership includes one of them,
   * so whatever crashes and restarts, no leader can be elected without it.
   */
  checkDurability(durable: ReadonlyMap<NodeId, LogView>): void {
    const h = this.maxCommittedIndex;
    if (h === 0) return;
    const known = this.committed.get(h) as CommittedEntry;
    const voters = this.committedConf.voters;
    const holders: NodeId[] = [];
    for (const v of voters) {
      const log = durable.get(v);
      if (!log) continue;
      if (log.snapshotIndex >= h || log.entry(h)?.term === known.term) holders.push(v);
    }
    const needed = voters.length - quorum(voters) + 1;
    if (holders.length < needed) {
      throw new Violation(
        'durability',
        `committed entry ${h}/${known.term} is durable only on [${holders.join(',')}] of voters ` +
          `[${voters.join(',')}]: a quorum without it could elect a leader`,
      );
    }
  }
}
