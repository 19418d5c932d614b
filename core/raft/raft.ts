/**
 * RaftCore: the Raft consensus algorithm as a pure, deterministic state machine, shaped like
 * etcd/raft. It never does I/O, never reads a clock and takes its randomness from an injected Rng:
 * the driver feeds it ticks and messages, and `ready()` says what to persist, send and apply.
 *
 * Section numbers refer to Ongaro's thesis "Consensus: Bridging Theory and Practice" (2014), whose
 * chapter 3 is the Raft paper extended.
 */
import {
  applyConfChange,
  checkConfChange,
  decodeConfChange,
  EMPTY_CONF,
  encodeConfChange,
  isMember,
} from './confchange.js';
import { RaftError } from './errors.js';
import { entrySize, RaftLog } from './log.js';
import { Progress } from './progress.js';
import { committedIndex, hasQuorum, voteResult } from './quorum.js';
import { ReadOnlyQueue } from './read-only.js';
import { SnapshotReceiver, SnapshotSender } from './snapshot-transfer.js';
import {
  NONE,
  type AppendMessage,
  type AppendResponseMessage,
  type ConfChange,
  type ConfState,
  type DropReason,
  type Entry,
  type EntryType,
  type HardState,
  type HeartbeatMessage,
  type HeartbeatResponseMessage,
  type Message,
  type NodeId,
  type PeerStatus,
  type PersistedState,
  type Proposed,
  type RaftOptions,
  type RaftStatus,
  type ReadState,
  type Ready,
  type Rng,
  type Role,
  type Snapshot,
  type SnapshotChunkMessage,
  type SnapshotResponseMessage,
  type SoftState,
  type StepResult,
  type VoteMessage,
} from './types.js';

/** A message as composed here: `from` is always this node, `term` defaults to the current term. */
type Outgoing = Message extends infer M
  ? M extends Message
    ? Omit<M, 'from' | 'term'> & { term?: number }
    : never
  : never;

type CampaignKind = 'preElection' | 'election' | 'transfer';

const EMPTY = new Uint8Array(0);
const OK: StepResult = { ok: true };

function dropped(reason: DropReason): StepResult {
  return { ok: false, reason };
}

/** Messages only a leader sends: they carry news of a leader the receiver may not know yet. */
function isFromLeader(m: Message): m is AppendMessage | HeartbeatMessage | SnapshotChunkMessage {
  return m.type === 'append' || m.type === 'heartbeat' || m.type === 'snapshot';
}

function isVoteRequest(m: Message): m is VoteMessage {
  return m.type === 'vote' || m.type === 'preVote';
}

interface Defaults {
  electionTicks: number;
  heartbeatTicks: number;
  preVote: boolean;
  checkQuorum: boolean;
  maxInflightMessages: number;
  maxInflightBytes: number;
  maxMessageBytes: number;
  snapshotChunkBytes: number;
  snapshotWindow: number;
  maxApplyBytes: number;
}

const DEFAULTS: Defaults = {
  electionTicks: 6,
  heartbeatTicks: 2,
  preVote: true,
  checkQuorum: true,
  maxInflightMessages: 256,
  maxInflightBytes: 32 << 20,
  maxMessageBytes: 1 << 20,
  snapshotChunkBytes: 1 << 20,
  snapshotWindow: 4,
  maxApplyBytes: 64 << 20,
};

/** What a Ready handed out, so that `advance()` marks exactly that as done. */
interface ReadyInFlight {
  readonly lastEntry: Entry | undefined;
  readonly lastCommitted: Entry | undefined;
  readonly snapshot: Snapshot | undefined;
  readonly hardState: HardState;
  readonly softState: SoftState;
}

export class RaftCore {
  readonly id: NodeId;
  private readonly opts: Defaults;
  private readonly rng: Rng;

  private term = 0;
  private vote: NodeId = NONE;
  private lead: NodeId = NONE;
  private role: Role = 'follower';
  private readonly log: RaftLog;

  /** The membership as of `log.applied` (changes take effect when applied, as in etcd). */
  private conf: ConfState;
  /** Memberships after each applied change above the snapshot: the membership at any index. */
  private confHistory: { index: number; conf: ConfState }[] = [];
  /** A leader proposes no membership change while one at or below this index is unapplied. */
  private pendingConfIndex = 0;

  private readonly progress = new Map<NodeId, Progress>();
  private readonly votes = new Map<NodeId, boolean>();
  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout = 0;
  private leadTransferee: NodeId = NONE;

  private readonly readOnly = new ReadOnlyQueue();
  /** ReadIndex requests that arrived before this leader committed an entry of its term (§6.4 step 1). */
  private pendingReads: { context: string; from: NodeId }[] = [];

  /**
   * Proposals since the last Ready wait to be sent together: one append per follower per Ready
   * instead of one per proposal.
   */
  private appendsDue = false;
  private readonly snapshotSenders = new Map<NodeId, SnapshotSender>();
  private snapshotReceiver: SnapshotReceiver | undefined;

  private messages: Message[] = [];
  private readStates: ReadState[] = [];
  private prevHardState: HardState;
  private prevSoftState: SoftState;
  private inFlight: ReadyInFlight | undefined;

  constructor(options: RaftOptions, persisted: PersistedState = {}) {
    this.id = options.id;
    this.rng = options.rng;
    this.opts = {
      electionTicks: options.electionTicks ?? DEFAULTS.electionTicks,
      heartbeatTicks: options.heartbeatTicks ?? DEFAULTS.heartbeatTicks,
      preVote: options.preVote ?? DEFAULTS.preVote,
      checkQuorum: options.checkQuorum ?? DEFAULTS.checkQuorum,
      maxInflightMessages: options.maxInflightMessages ?? DEFAULTS.maxInflightMessages,
      maxInflightBytes: options.maxInflightBytes ?? DEFAULTS.maxInflightBytes,
      maxMessageBytes: options.maxMessageBytes ?? DEFAULTS.maxMessageBytes,
      snapshotChunkBytes: options.snapshotChunkBytes ?? DEFAULTS.snapshotChunkBytes,
      snapshotWindow: options.snapshotWindow ?? DEFAULTS.snapshotWindow,
      maxApplyBytes: options.maxApplyBytes ?? DEFAULTS.maxApplyBytes,
    };
    if (this.opts.heartbeatTicks < 1 || this.opts.electionTicks <= this.opts.heartbeatTicks) {
      throw new RaftError(
        'INVALID_REQUEST',
        'electionTicks must be greater than heartbeatTicks, which must be at least 1',
      );
    }
    const snapshot = persisted.snapshot ?? { meta: { index: 0, term: 0, conf: EMPTY_CONF }, data: EMPTY };
    const hardState = persisted.hardState ?? { term: 0, vote: NONE, commit: 0 };
    this.log = new RaftLog(snapshot, persisted.entries ?? [], hardState.commit);
    this.conf = snapshot.meta.conf;
    this.term = hardState.term;
    this.vote = hardState.vote;
    this.prevHardState = { term: this.term, vote: this.vote, commit: this.log.committed };
    this.prevSoftState = { leader: NONE, role: 'follower' };
    this.becomeFollower(this.term, NONE);
  }

  // ---------------------------------------------------------------------------------------------
  // Inputs

  /** One unit of logical time: the driver calls it at a fixed interval. */
  tick(): void {
    if (this.role === 'leader') this.tickHeartbeat();
    else this.tickElection();
  }

  /** Takes a message from a peer. Never throws for a bad or untimely message: it is dropped. */
  step(m: Message): StepResult {
    if (m.to !== this.id || m.from === this.id) return dropped('WRONG_RECIPIENT');
    // Answers and requests from a node outside the membership are dropped. Leader traffic and
    // vote requests are not: this node may not have applied the change that added the sender
    // yet, and refusing a candidate that a newer membership counts can leave the cluster without
    // a leader (found by the simulator). Pre-vote and the leader lease keep a removed node from
    // disrupting anything; the candidate's own quorum count keeps elections safe.
    if (
      this.conf.voters.length > 0 &&
      !isMember(this.conf, m.from) &&
      !isFromLeader(m) &&
      !isVoteRequest(m)
    ) {
      return dropped('UNKNOWN_SENDER');
    }

    if (m.term > this.term) {
      if (m.type === 'vote' || m.type === 'preVote') {
        // §4.2.3 / §6.2: while a leader's lease is live, a vote request is the disruptive server.
        const inLease =
          this.opts.checkQuorum && this.lead !== NONE && this.electionElapsed < this.opts.electionTicks;
        if (inLease && m.transfer !== true) return dropped('IN_LEASE');
      }
      if (m.type === 'preVote' || (m.type === 'preVoteResponse' && !m.reject)) {
        // A pre-vote is for a term nobody has entered yet: it changes no term (§9.6).
      } else {
        this.becomeFollower(m.term, isFromLeader(m) ? m.from : NONE);
      }
    } else if (m.term < this.term) {
      if ((this.opts.checkQuorum || this.opts.preVote) && (m.type === 'append' || m.type === 'heartbeat')) {
        // A stale leader cut off by a partition may never hear a higher term otherwise: without
        // pre-vote inflating terms, only this answer makes it step down.
        this.send({ type: 'appendResponse', to: m.from, index: 0, reject: false, hintIndex: 0, hintTerm: 0 });
      } else if (m.type === 'preVote') {
        this.send({ type: 'preVoteResponse', to: m.from, reject: true });
      }
      return dropped('STALE_TERM');
    }

    switch (m.type) {
      case 'vote':
      case 'preVote':
        this.handleVoteRequest(m);
        return OK;
      default:
        switch (this.role) {
          case 'leader':
            return this.stepLeader(m);
          case 'candidate':
          case 'preCandidate':
            return this.stepCandidate(m);
          case 'follower':
            return this.stepFollower(m);
        }
    }
  }

  /** Appends one entry on the leader and replicates it. */
  propose(data: Uint8Array): Proposed {
    return this.proposeBatch([data]);
  }

  /** Appends several entries at once on the leader (consecutive indexes). */
  proposeBatch(data: readonly Uint8Array[]): Proposed {
    this.checkCanPropose();
    if (data.length === 0) throw new RaftError('INVALID_REQUEST', 'a batch needs at least one entry');
    const index = this.appendEntries(data.map((d) => ({ type: 'normal', data: d })));
    this.appendsDue = true;
    return { index, term: this.term };
  }

  /** Proposes one membership change (thesis §4.1), refusing what could break safety. */
  proposeConfChange(cc: ConfChange): Proposed {
    this.checkCanPropose();
    if (this.pendingConfIndex > this.log.applied) {
      throw new RaftError(
        'CONF_CHANGE_PENDING',
        `membership change at index ${this.pendingConfIndex} is not applied yet`,
      );
    }
    if (!this.committedInTerm()) {
      // The single-server change bug (raft-dev, 2015): a new leader must commit an entry of its
      // own term before changing the membership.
      throw new RaftError(
        'LEADER_NOT_READY',
        `the leader has not committed an entry of term ${this.term} yet`,
      );
    }
    const why = checkConfChange(this.conf, cc);
    if (why !== undefined) throw new RaftError('INVALID_CONF_CHANGE', why);
    const index = this.appendEntries([{ type: 'confChange', data: encodeConfChange(cc) }]);
    this.pendingConfIndex = index;
    this.appendsDue = true;
    return { index, term: this.term };
  }

  /**
   * Asks for a linearizable read point (§6.4). The answer arrives as a ReadState in a later Ready;
   * a request lost to a leader change gets no answer: the caller retries with a new context.
   */
  readIndex(context: string): void {
    if (this.role === 'leader') {
      this.handleReadIndex(context, this.id);
      return;
    }
    if (this.lead === NONE) throw new RaftError('NO_LEADER', 'no leader is known to confirm the read');
    this.send({ type: 'readIndex', to: this.lead, context });
  }

  /** Hands leadership to `to` once its log is caught up (thesis §3.10). */
  transferLeader(to: NodeId): void {
    if (this.role !== 'leader') throw new RaftError('NOT_LEADER', 'only the leader can transfer leadership');
    if (to === this.id) return;
    if (!this.conf.voters.includes(to)) {
      const what = this.conf.learners.includes(to) ? 'a learner' : 'not a member';
      throw new RaftError('INVALID_TRANSFER_TARGET', `${to} is ${what} and cannot lead`);
    }
    if (this.leadTransferee === to) return;
    this.leadTransferee = to;
    // The transfer must finish within an election timeout or it is abandoned.
    this.electionElapsed = 0;
    const pr = this.progress.get(to) as Progress;
    if (pr.match === this.log.lastIndex()) this.send({ type: 'timeoutNow', to });
    else this.sendAppend(to);
  }

  /** The driver tells us a peer could not be reached: stop streaming to it blindly. */
  reportUnreachable(id: NodeId): void {
    const pr = this.progress.get(id);
    if (this.role === 'leader' && pr?.state === 'replicate') pr.becomeProbe();
  }

  /**
   * A snapshot of the state machine at `index` (at most the applied index) with the membership
   * as of that index. Changes nothing: pass it to `compact` once the driver has persisted it.
   */
  createSnapshot(index: number, data: Uint8Array): Snapshot {
    const floor = this.log.snapshot.meta.index;
    if (index > this.log.applied || index < floor) {
      throw new RaftError(
        'INVALID_REQUEST',
        `snapshot index ${index} is outside [${floor}, applied ${this.log.applied}]`,
      );
    }
    const term = this.log.term(index);
    if (term === undefined) throw new RaftError('INVALID_REQUEST', `the term of index ${index} is compacted`);
    return { meta: { index, term, conf: this.confAt(index) }, data };
  }

  /**
   * Adopts a persisted snapshot and drops log entries below it, keeping `trailing` entries for
   * followers that lag a little. Returns the first index still held: storage may drop the rest.
   */
  compact(snapshot: Snapshot, trailing: number): number {
    const index = snapshot.meta.index;
    if (index > this.log.applied || index < this.log.snapshot.meta.index) {
      throw new RaftError('INVALID_REQUEST', `cannot compact to ${index}: applied is ${this.log.applied}`);
    }
    if (this.log.term(index) !== snapshot.meta.term) {
      throw new RaftError(
        'INVALID_REQUEST',
        `snapshot ${index}/${snapshot.meta.term} does not match the log`,
      );
    }
    const first = this.log.compact(snapshot, Math.max(0, trailing));
    this.confHistory = this.confHistory.filter((h) => h.index > index);
    return first;
  }

  // ---------------------------------------------------------------------------------------------
  // Outputs

  hasReady(): boolean {
    if (this.inFlight) return false;
    return (
      this.appendsDue ||
      this.messages.length > 0 ||
      this.readStates.length > 0 ||
      this.log.pendingSnapshot !== undefined ||
      this.log.stable < this.log.lastIndex() ||
      this.log.committed > this.log.applied ||
      !sameHardState(this.hardState(), this.prevHardState) ||
      !sameSoftState(this.softState(), this.prevSoftState)
    );
  }

  ready(): Ready {
    if (this.inFlight) throw new Error('ready() called again before advance()');
    if (this.appendsDue) {
      this.appendsDue = false;
      if (this.role === 'leader') this.bcastAppend();
    }
    const hardState = this.hardState();
    const softState = this.softState();
    const entries = this.log.unstableEntries();
    const snapshot = this.log.pendingSnapshot;
    const committed = this.log.nextCommitted(this.opts.maxApplyBytes);
    const hardChanged = !sameHardState(hardState, this.prevHardState);
    const rd: Ready = {
      ...(sameSoftState(softState, this.prevSoftState) ? {} : { softState }),
      ...(hardChanged ? { hardState } : {}),
      ...(snapshot ? { snapshot } : {}),
      entries,
      committed,
      messages: this.messages,
      readStates: this.readStates,
      mustSync:
        entries.length > 0 ||
        snapshot !== undefined ||
        hardState.term !== this.prevHardState.term ||
        hardState.vote !== this.prevHardState.vote,
    };
    this.messages = [];
    this.readStates = [];
    this.inFlight = {
      lastEntry: entries[entries.length - 1],
      lastCommitted: committed[committed.length - 1],
      snapshot,
      hardState,
      softState,
    };
    return rd;
  }

  /** The last Ready has been persisted, sent and applied. */
  advance(): void {
    const done = this.inFlight;
    if (!done) throw new Error('advance() called without a ready()');
    this.inFlight = undefined;
    this.prevHardState = done.hardState;
    this.prevSoftState = done.softState;
    if (done.snapshot) {
      if (this.log.pendingSnapshot === done.snapshot) this.log.pendingSnapshot = undefined;
      this.log.applied = Math.max(this.log.applied, done.snapshot.meta.index);
    }
    if (done.lastEntry) this.log.stableTo(done.lastEntry.index, done.lastEntry.term);
    if (done.lastCommitted) {
      for (let i = this.log.applied + 1; i <= done.lastCommitted.index; i++) {
        const entry = this.log.entry(i);
        if (entry?.type === 'confChange') this.applyConfChangeEntry(entry);
      }
      this.log.applied = Math.max(this.log.applied, done.lastCommitted.index);
    }
  }

  status(): RaftStatus {
    const progress: Record<NodeId, PeerStatus> = {};
    if (this.role === 'leader') {
      for (const [id, pr] of this.progress) {
        progress[id] = {
          match: pr.match,
          next: pr.next,
          state: pr.state,
          learner: pr.learner,
          recentActive: pr.recentActive,
        };
      }
    }
    return {
      id: this.id,
      role: this.role,
      leader: this.lead,
      term: this.term,
      vote: this.vote,
      commit: this.log.committed,
      applied: this.log.applied,
      firstIndex: this.log.firstIndex(),
      lastIndex: this.log.lastIndex(),
      snapshotIndex: this.log.snapshot.meta.index,
      conf: this.conf,
      leadTransferee: this.leadTransferee,
      progress,
    };
  }

  // ---------------------------------------------------------------------------------------------
  // Roles (§3.3, Figure 3.3)

  private becomeFollower(term: number, lead: NodeId): void {
    this.reset(term);
    this.role = 'follower';
    this.lead = lead;
  }

  private becomePreCandidate(): void {
    // A pre-candidate keeps its term and vote: it only asks whether it could win (§9.6).
    this.votes.clear();
    this.lead = NONE;
    this.role = 'preCandidate';
  }

  private becomeCandidate(): void {
    this.reset(this.term + 1);
    this.vote = this.id;
    this.role = 'candidate';
  }

  private becomeLeader(): void {
    this.reset(this.term);
    this.role = 'leader';
    this.lead = this.id;
    for (const id of [...this.conf.voters, ...this.conf.learners]) this.addProgress(id);
    // Any unapplied entry may be a membership change: wait for all of them (§4.1).
    this.pendingConfIndex = this.log.lastIndex();
    // §5.4.2 / §8: commit a no-op of this term so earlier entries commit and reads may be served.
    this.appendEntries([{ type: 'normal', data: EMPTY }]);
  }

  private reset(term: number): void {
    if (term !== this.term) {
      this.term = term;
      this.vote = NONE;
    }
    this.lead = NONE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.randomizedElectionTimeout = this.opts.electionTicks + this.rng.int(this.opts.electionTicks);
    this.leadTransferee = NONE;
    this.appendsDue = false;
    this.votes.clear();
    this.progress.clear();
    this.snapshotSenders.clear();
    this.readOnly.clear();
    this.pendingReads = [];
  }

  private addProgress(id: NodeId): void {
    const pr = new Progress(
      this.log.lastIndex() + 1,
      this.conf.learners.includes(id),
      this.opts.maxInflightMessages,
      this.opts.maxInflightBytes,
    );
    if (id === this.id) pr.match = this.log.lastIndex();
    pr.recentActive = id === this.id;
    this.progress.set(id, pr);
  }

  private promotable(): boolean {
    return this.conf.voters.includes(this.id) && this.log.pendingSnapshot === undefined;
  }

  // ---------------------------------------------------------------------------------------------
  // Timers

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.campaign(this.opts.preVote ? 'preElection' : 'election');
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.opts.electionTicks) {
      this.electionElapsed = 0;
      if (this.opts.checkQuorum) {
        // §6.2: a leader that has not heard from a quorum for an election timeout steps down.
        const active = hasQuorum(this.conf.voters, (id) => this.progress.get(id)?.recentActive === true);
        for (const [id, pr] of this.progress) pr.recentActive = id === this.id;
        if (!active) {
          this.becomeFollower(this.term, NONE);
          return;
        }
      }
      // §3.10: a transfer that did not finish within an election timeout is abandoned.
      this.leadTransferee = NONE;
    }
    for (const [id, sender] of this.snapshotSenders) {
      if (++sender.idleTicks >= this.opts.electionTicks) {
        sender.rewind();
        this.sendSnapshotChunks(id, sender);
      }
    }
    if (this.heartbeatElapsed >= this.opts.heartbeatTicks) {
      this.heartbeatElapsed = 0;
      this.bcastHeartbeat(this.readOnly.lastContext());
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Elections (§3.4, §9.6 pre-vote)

  private campaign(kind: CampaignKind): void {
    if (!this.promotable()) return;
    let voteTerm: number;
    if (kind === 'preElection') {
      this.becomePreCandidate();
      voteTerm = this.term + 1;
    } else {
      this.becomeCandidate();
      voteTerm = this.term;
    }
    const type = kind === 'preElection' ? 'preVote' : 'vote';
    if (this.recordVote(this.id, true)) return;
    for (const id of this.conf.voters) {
      if (id === this.id) continue;
      this.send({
        type,
        to: id,
        term: voteTerm,
        index: this.log.lastIndex(),
        logTerm: this.log.lastTerm(),
        ...(kind === 'transfer' ? { transfer: true } : {}),
      });
    }
  }

  /** Counts a vote; true when it decided the (pre-)election. */
  private recordVote(from: NodeId, granted: boolean): boolean {
    if (!this.votes.has(from)) this.votes.set(from, granted);
    switch (voteResult(this.conf.voters, this.votes)) {
      case 'won':
        if (this.role === 'preCandidate') {
          this.campaign('election');
        } else {
          this.becomeLeader();
          this.bcastAppend();
        }
        return true;
      case 'lost':
        this.becomeFollower(this.term, NONE);
        return true;
      case 'pending':
        return false;
    }
  }

  private handleVoteRequest(m: VoteMessage): void {
    const responseType = m.type === 'vote' ? 'voteResponse' : 'preVoteResponse';
    // §5.2: one vote per term, first come first served; a pre-vote for a future term binds nothing.
    const canVote =
      this.vote === m.from ||
      (this.vote === NONE && this.lead === NONE) ||
      (m.type === 'preVote' && m.term > this.term);
    // §5.4.1: only for a candidate whose log is at least as up-to-date as ours.
    if (canVote && this.log.isUpToDate(m.index, m.logTerm)) {
      this.send({ type: responseType, to: m.from, term: m.term, reject: false });
      if (m.type === 'vote') {
        this.electionElapsed = 0;
        this.vote = m.from;
      }
    } else {
      this.send({ type: responseType, to: m.from, reject: true });
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Per-role message handling

  private stepLeader(m: Message): StepResult {
    const pr = this.progress.get(m.from);
    switch (m.type) {
      case 'appendResponse':
        if (!pr) return dropped('UNKNOWN_SENDER');
        this.handleAppendResponse(m, pr);
        return OK;
      case 'heartbeatResponse':
        if (!pr) return dropped('UNKNOWN_SENDER');
        this.handleHeartbeatResponse(m, pr);
        return OK;
      case 'snapshotResponse':
        if (!pr) return dropped('UNKNOWN_SENDER');
        this.handleSnapshotResponse(m, pr);
        return OK;
      case 'readIndex':
        this.handleReadIndex(m.context, m.from);
        return OK;
      default:
        return dropped('UNEXPECTED');
    }
  }

  private stepCandidate(m: Message): StepResult {
    switch (m.type) {
      case 'append':
      case 'heartbeat':
      case 'snapshot':
        // §5.2: a leader of our term exists; recognise it.
        this.becomeFollower(this.term, m.from);
        return this.stepFollower(m);
      case 'voteResponse':
      case 'preVoteResponse': {
        const mine = this.role === 'candidate' ? 'voteResponse' : 'preVoteResponse';
        if (m.type !== mine) return dropped('UNEXPECTED');
        this.recordVote(m.from, !m.reject);
        return OK;
      }
      case 'readIndex':
        return dropped('NOT_LEADER');
      default:
        return dropped('UNEXPECTED');
    }
  }

  private stepFollower(m: Message): StepResult {
    switch (m.type) {
      case 'append':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleAppend(m);
        return OK;
      case 'heartbeat':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleHeartbeat(m);
        return OK;
      case 'snapshot':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleSnapshotChunk(m);
        return OK;
      case 'timeoutNow':
        if (!this.promotable()) return dropped('UNEXPECTED');
        this.campaign('transfer');
        return OK;
      case 'readIndexResponse':
        this.readStates.push({ index: m.index, context: m.context });
        return OK;
      case 'readIndex':
        return dropped('NOT_LEADER');
      default:
        return dropped('UNEXPECTED');
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Log replication (§3.5)

  private appendEntries(items: readonly { type: EntryType; data: Uint8Array }[]): number {
    const first = this.log.lastIndex() + 1;
    this.log.append(
      items.map((item, i) => ({ term: this.term, index: first + i, type: item.type, data: item.data })),
    );
    (this.progress.get(this.id) as Progress).maybeUpdate(this.log.lastIndex());
    this.maybeCommit();
    return first;
  }

  private bcastAppend(): void {
    for (const id of this.progress.keys()) if (id !== this.id) this.sendAppend(id);
  }

  /** Sends the next entries to `to`, or the snapshot when they are compacted away. */
  private sendAppend(to: NodeId, sendIfEmpty = true): boolean {
    const pr = this.progress.get(to);
    if (!pr || pr.isPaused()) return false;
    const prevIndex = pr.next - 1;
    const prevTerm = this.log.term(prevIndex);
    const entries =
      prevTerm === undefined
        ? undefined
        : this.log.slice(pr.next, this.log.lastIndex(), this.opts.maxMessageBytes);
    if (prevTerm === undefined || entries === undefined) return this.startSnapshot(to, pr);
    if (entries.length === 0 && !sendIfEmpty) return false;
    this.send({
      type: 'append',
      to,
      index: prevIndex,
      logTerm: prevTerm,
      entries,
      commit: this.log.committed,
    });
    pr.sentCommit = this.log.committed;
    const last = entries[entries.length - 1];
    let bytes = 0;
    for (const e of entries) bytes += entrySize(e);
    pr.sentAppend(last ? last.index : prevIndex, bytes, entries.length);
    return true;
  }

  private handleAppend(m: AppendMessage): void {
    if (m.index < this.log.committed) {
      this.send({
        type: 'appendResponse',
        to: m.from,
        index: this.log.committed,
        reject: false,
        hintIndex: 0,
        hintTerm: 0,
      });
      return;
    }
    const lastNew = this.log.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
    if (lastNew !== undefined) {
      this.send({
        type: 'appendResponse',
        to: m.from,
        index: lastNew,
        reject: false,
        hintIndex: 0,
        hintTerm: 0,
      });
      return;
    }
    // §5.3 (end): name the last index that might match, skipping every entry of a term the
    // leader's entry at m.index cannot agree with.
    const hintIndex = this.log.findConflictByTerm(Math.min(m.index, this.log.lastIndex()), m.logTerm);
    const hintTerm = this.log.term(hintIndex) ?? 0;
    this.send({ type: 'appendResponse', to: m.from, index: m.index, reject: true, hintIndex, hintTerm });
  }

  private handleAppendResponse(m: AppendResponseMessage, pr: Progress): void {
    pr.recentActive = true;
    if (m.reject) {
      const hint = m.hintTerm > 0 ? this.log.findConflictByTerm(m.hintIndex, m.hintTerm) : m.hintIndex;
      if (pr.maybeDecrTo(m.index, hint)) {
        if (pr.state === 'replicate') pr.becomeProbe();
        this.sendAppend(m.from);
      }
      return;
    }
    const wasPaused = pr.isPaused();
    if (!pr.maybeUpdate(m.index)) return;
    if (pr.state === 'probe') {
      pr.becomeReplicate();
    } else if (pr.state === 'snapshot' && pr.match >= pr.pendingSnapshot) {
      this.snapshotSenders.delete(m.from);
      pr.becomeReplicate();
    } else if (pr.state === 'replicate') {
      pr.inflights.freeUpTo(m.index);
    }
    // A follower that was paused may have missed the newest commit index.
    if (this.maybeCommit()) this.bcastAppend();
    else if (wasPaused && pr.sentCommit < this.log.committed) this.sendAppend(m.from);
    while (this.sendAppend(m.from, false)) {
      // Stream what is left until the window is full.
    }
    if (m.from === this.leadTransferee && pr.match === this.log.lastIndex()) {
      this.send({ type: 'timeoutNow', to: m.from });
    }
  }

  /** §5.3 and §5.4.2: commit what a quorum holds, but only by counting entries of this term. */
  private maybeCommit(): boolean {
    const index = committedIndex(this.conf.voters, (id) => this.progress.get(id)?.match ?? 0);
    if (index <= this.log.committed || this.log.term(index) !== this.term) return false;
    const firstInTerm = !this.committedInTerm();
    this.log.commitTo(index);
    if (firstInTerm) this.releasePendingReads();
    return true;
  }

  private committedInTerm(): boolean {
    return this.log.term(this.log.committed) === this.term;
  }

  // ---------------------------------------------------------------------------------------------
  // Heartbeats and ReadIndex (§6.4)

  private bcastHeartbeat(context: string | undefined): void {
    for (const [id, pr] of this.progress) {
      if (id === this.id) continue;
      // Never tell a follower to commit past what it is known to hold.
      const commit = Math.min(pr.match, this.log.committed);
      pr.sentCommit = Math.max(pr.sentCommit, commit);
      this.send({ type: 'heartbeat', to: id, commit, ...(context === undefined ? {} : { context }) });
    }
  }

  private handleHeartbeat(m: HeartbeatMessage): void {
    if (m.commit > this.log.lastIndex()) {
      // The leader only names entries this node acknowledged: its log lost acknowledged writes.
      throw new Error(
        `leader ${m.from} says entry ${m.commit} is committed but this log ends at ${this.log.lastIndex()}: ` +
          'acknowledged entries were lost (damaged disk?)',
      );
    }
    this.log.commitTo(m.commit);
    this.send({
      type: 'heartbeatResponse',
      to: m.from,
      ...(m.context === undefined ? {} : { context: m.context }),
    });
  }

  private handleHeartbeatResponse(m: HeartbeatResponseMessage, pr: Progress): void {
    pr.recentActive = true;
    pr.probeSent = false;
    // Appends may have been lost with the window full: free a slot so replication resumes.
    if (pr.state === 'replicate' && pr.inflights.full()) pr.inflights.freeFirst();
    if (pr.match < this.log.lastIndex()) this.sendAppend(m.from);
    if (m.context === undefined) return;
    const acks = this.readOnly.ack(m.context, m.from);
    if (!acks || !hasQuorum(this.conf.voters, (id) => id === this.id || acks.has(id))) return;
    for (const request of this.readOnly.release(m.context))
      this.answerRead(request.context, request.index, request.from);
  }

  private handleReadIndex(context: string, from: NodeId): void {
    if (!this.committedInTerm()) {
      // §6.4 step 1: until it commits in its term, the leader does not know the commit index.
      this.pendingReads.push({ context, from });
      return;
    }
    if (this.conf.voters.length === 1 && this.conf.voters[0] === this.id) {
      this.answerRead(context, this.log.committed, from);
      return;
    }
    this.readOnly.add(context, this.log.committed, from);
    this.bcastHeartbeat(context);
  }

  private releasePendingReads(): void {
    const reads = this.pendingReads;
    this.pendingReads = [];
    for (const read of reads) this.handleReadIndex(read.context, read.from);
  }

  private answerRead(context: string, index: number, from: NodeId): void {
    if (from === this.id) this.readStates.push({ index, context });
    else this.send({ type: 'readIndexResponse', to: from, context, index });
  }

  // ---------------------------------------------------------------------------------------------
  // Snapshots (§5.7 and thesis chapter 5)

  private startSnapshot(to: NodeId, pr: Progress): boolean {
    const sender = new SnapshotSender(this.log.snapshot);
    pr.becomeSnapshot(sender.index);
    this.snapshotSenders.set(to, sender);
    this.sendSnapshotChunks(to, sender);
    return true;
  }

  private sendSnapshotChunks(to: NodeId, sender: SnapshotSender): void {
    const { meta } = sender.snapshot;
    const total = sender.snapshot.data.length;
    for (const chunk of sender.nextChunks(this.opts.snapshotChunkBytes, this.opts.snapshotWindow)) {
      this.send({ type: 'snapshot', to, meta, offset: chunk.offset, total, data: chunk.data });
    }
  }

  private handleSnapshotResponse(m: SnapshotResponseMessage, pr: Progress): void {
    pr.recentActive = true;
    const sender = this.snapshotSenders.get(m.from);
    if (!sender || sender.index !== m.index || pr.state !== 'snapshot') return;
    sender.acknowledge(m.received);
    this.sendSnapshotChunks(m.from, sender);
  }

  private handleSnapshotChunk(m: SnapshotChunkMessage): void {
    if (m.meta.index <= this.log.committed) {
      // Already covered (a duplicate or a late chunk): say where we are so the leader moves on.
      this.snapshotReceiver = undefined;
      this.send({
        type: 'appendResponse',
        to: m.from,
        index: this.log.committed,
        reject: false,
        hintIndex: 0,
        hintTerm: 0,
      });
      return;
    }
    let receiver = this.snapshotReceiver;
    if (!receiver || !receiver.matches(m)) {
      if (m.offset !== 0) {
        this.send({ type: 'snapshotResponse', to: m.from, index: m.meta.index, received: 0 });
        return;
      }
      receiver = new SnapshotReceiver(m.from, m.meta, m.total);
      this.snapshotReceiver = receiver;
    }
    receiver.accept(m);
    if (!receiver.complete()) {
      this.send({ type: 'snapshotResponse', to: m.from, index: m.meta.index, received: receiver.received });
      return;
    }
    this.snapshotReceiver = undefined;
    const snapshot = receiver.assemble();
    const index = this.restore(snapshot) ? this.log.lastIndex() : this.log.committed;
    this.send({ type: 'appendResponse', to: m.from, index, reject: false, hintIndex: 0, hintTerm: 0 });
  }

  /** Installs a snapshot from the leader; false when the log already holds it. */
  private restore(snapshot: Snapshot): boolean {
    const { index, term } = snapshot.meta;
    if (index <= this.log.committed) return false;
    if (this.log.matchTerm(index, term)) {
      // Our log already has the snapshot's last entry: keep what follows, just commit up to it.
      this.log.commitTo(index);
      return false;
    }
    this.log.restore(snapshot);
    this.conf = snapshot.meta.conf;
    this.confHistory = [];
    return true;
  }

  // ---------------------------------------------------------------------------------------------
  // Membership (§4.1)

  private applyConfChangeEntry(entry: Entry): void {
    if (entry.index <= this.log.snapshot.meta.index) return;
    const cc = decodeConfChange(entry.data);
    if (!cc) return;
    const next = applyConfChange(this.conf, cc);
    if (next === this.conf) return;
    this.conf = next;
    this.confHistory.push({ index: entry.index, conf: next });
    if (this.role !== 'leader') return;
    if (!next.voters.includes(this.id)) {
      // A removed leader steps down once its removal is committed (§4.2.2).
      this.becomeFollower(this.term, NONE);
      return;
    }
    for (const id of this.progress.keys()) if (!isMember(next, id)) this.dropProgress(id);
    for (const id of [...next.voters, ...next.learners]) {
      const pr = this.progress.get(id);
      if (pr) pr.learner = next.learners.includes(id);
      else {
        this.addProgress(id);
        // Counted as active until the next check-quorum round, as etcd does: a member added
        // just before that round must not make the leader step down before it could answer.
        (this.progress.get(id) as Progress).recentActive = true;
      }
    }
    if (this.leadTransferee !== NONE && !next.voters.includes(this.leadTransferee))
      this.leadTransferee = NONE;
    // The quorum changed: entries may now be committed (or a new member needs the log).
    if (this.maybeCommit()) this.bcastAppend();
    else for (const id of this.progress.keys()) if (id !== this.id) this.sendAppend(id);
  }

  private dropProgress(id: NodeId): void {
    this.progress.delete(id);
    this.snapshotSenders.delete(id);
  }

  private confAt(index: number): ConfState {
    let conf = this.log.snapshot.meta.conf;
    for (const h of this.confHistory) if (h.index <= index) conf = h.conf;
    return conf;
  }

  // ---------------------------------------------------------------------------------------------
  // Helpers

  private checkCanPropose(): void {
    if (this.role !== 'leader') {
      throw new RaftError(
        'NOT_LEADER',
        this.lead === NONE ? 'no leader is known' : `the leader is ${this.lead}`,
      );
    }
    if (this.leadTransferee !== NONE) {
      throw new RaftError(
        'TRANSFER_IN_PROGRESS',
        `leadership is being transferred to ${this.leadTransferee}`,
      );
    }
  }

  /** Stamps a freshly built message with sender and term (in place: a spread here was the hot spot). */
  private send(m: Outgoing): void {
    const message = m as { from?: NodeId; term?: number };
    message.from = this.id;
    message.term ??= this.term;
    this.messages.push(m as Message);
  }

  private hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  private softState(): SoftState {
    return { leader: this.lead, role: this.role };
  }
}

function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

function sameSoftState(a: SoftState, b: SoftState): boolean {
  return a.leader === b.leader && a.role === b.role;
}
