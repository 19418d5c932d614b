/**
 * The running replica: drives the pure RaftCore with a clock, durable storage, the peer transport
 * and a state machine (DESIGN.md section 3). One Ready at a time, in this order: send the leader's
 * replication traffic → persist (one fsync for the batch; entries already durable apply
 * meanwhile) → send the rest → apply → advance. Proposals that arrive while a batch is being
 * persisted join the next batch (group commit). Clock, storage and transport are injected, so the
 * simulator (test/sim) runs this very loop on virtual time, a model disk and a model network.
 */
import { randomInt } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { RaftError } from '../raft/errors.js';
import { RaftCore } from '../raft/raft.js';
import { seededRng } from '../raft/rng.js';
import {
  NONE,
  type ConfChange,
  type ConfState,
  type DropReason,
  type Entry,
  type Message,
  type NodeId,
  type PersistedState,
  type RaftOptions,
  type RaftStatus,
  type Ready,
  type Rng,
  type Role,
} from '../raft/types.js';
import type { RaftStorage } from '../storage/types.js';
import type { PeerTransport } from '../transport/types.js';
import { systemClock, type Clock, type ClockTimer } from './clock.js';
import { ReplicaError } from './errors.js';
import { memberAddress } from './members.js';
import { PendingProposals, IndexWaiters } from './pending.js';
import type { StateMachine } from './state-machine.js';

/** What the replica uses of its storage (core/storage's `RaftStorage` in production). */
export type ReplicaStorage = Pick<RaftStorage, 'recovered' | 'save' | 'saveSnapshot' | 'compact'> & {
  stats(): { readonly fsyncs: number };
};

/** What the replica uses of the peer transport (core/transport's `PeerTransport` in production). */
export type ReplicaTransport = Pick<
  PeerTransport,
  'addPeer' | 'removePeer' | 'send' | 'onMessage' | 'request' | 'handle' | 'peers'
>;

export interface ReplicaOptions {
  readonly id: NodeId;
  readonly storage: ReplicaStorage;
  readonly transport: ReplicaTransport;
  readonly stateMachine: StateMachine;
  readonly logger: Logger;
  /** Time and timers (default: Node's). */
  readonly clock?: Clock;
  /** Randomness for the Raft core's election timeouts (default: seeded from crypto). */
  readonly rng?: Rng;
  /**
   * Which of a Ready's messages may leave before its batch is durable (default
   * {@link leaderTraffic}: the leader's own replication traffic). Injected so that the simulator
   * can plant a rule that breaks the Ready contract and show that it catches it; nothing else
   * sets it.
   */
  readonly sendsBeforePersist?: (message: Message) => boolean;
  /** What to start from, when not what storage recovered (a new cluster's first membership). */
  readonly persisted?: PersistedState;
  /** Milliseconds per Raft tick (default 50). */
  readonly tickMs?: number;
  /** Raft tuning: election and heartbeat ticks, flow control (DESIGN.md section 3 defaults). */
  readonly raft?: Partial<Omit<RaftOptions, 'id' | 'rng'>>;
  /** Take a snapshot and compact the log every this many applied entries (default 10,000). */
  readonly snapshotEvery?: number;
  /** Entries kept below a snapshot for followers that lag a little (default 1,000). */
  readonly trailingEntries?: number;
  /** How long a write may wait to be applied before it fails as TIMEOUT (default 5 s). */
  readonly proposalTimeoutMs?: number;
  /** Writes waiting to apply on this node before new ones are refused with QUEUE_FULL. */
  readonly maxPendingProposals?: number;
}

export interface ProposeResult {
  readonly index: number;
  readonly result: unknown;
}

export type Consistency = 'local' | 'linearizable';

export interface PeerReplicaStatus {
  readonly id: NodeId;
  readonly address: string | undefined;
  readonly voter: boolean;
  readonly connected: boolean;
  /** On the leader: the peer's match index. */
  readonly matchIndex: number | undefined;
  readonly lastContactMs: number | undefined;
  readonly rttMs: number | undefined;
}

export interface ReplicaStatus extends RaftStatus {
  readonly peers: readonly PeerReplicaStatus[];
  readonly dropped: Readonly<Partial<Record<DropReason, number>>>;
  readonly fsyncs: number;
  readonly batches: number;
  /** Snapshots received from a leader and installed. */
  readonly snapshotsInstalled: number;
}

export interface ReplicaEvents {
  role: [{ role: Role; term: number }];
  leader: [{ leader: NodeId; term: number }];
  membership: [{ conf: ConfState; index: number }];
  applied: [{ index: number }];
  /** How long one persist (one fsync for a batch) or one apply of committed commands took. */
  timing: [{ kind: 'persist' | 'apply'; seconds: number; entries: number }];
  fatal: [Error];
}

/** Forwarded writes travel as this cluster request to the leader. */
const FORWARD_PROPOSE = 'replica.propose';

export class Replica extends EventEmitter<ReplicaEvents> {
  readonly id: NodeId;
  private readonly raft: RaftCore;
  private readonly storage: ReplicaStorage;
  private readonly transport: ReplicaTransport;
  private readonly clock: Clock;
  private readonly sendsBeforePersist: (message: Message) => boolean;
  private readonly sm: StateMachine;
  private readonly log: Logger;
  private readonly tickMs: number;
  private readonly electionMs: number;
  private readonly snapshotEvery: number;
  private readonly trailing: number;
  private readonly proposalTimeoutMs: number;
  private readonly maxPending: number;

  private readonly proposals: PendingProposals;
  private readonly appliedWaiters: IndexWaiters;
  private readonly reads = new Map<string, { resolve: (index: number | undefined) => void }>();
  private readCounter = 0;
  private readonly lastContact = new Map<NodeId, number>();
  /** Requests waiting for a leader to be known (during an election). */
  private readonly leaderWaiters = new Set<(leader: NodeId) => void>();
  private readonly dropped: Partial<Record<DropReason, number>> = {};
  private ticker: ClockTimer | undefined;
  private scheduled = false;
  private running: Promise<void> | undefined;
  private stopped = false;
  private applied = 0;
  /** The last log index this node's storage holds durably. */
  private persistedIndex = 0;
  private snapshotIndex = 0;
  private batches = 0;
  private snapshotsInstalled = 0;
  private role: Role = 'follower';
  private leader: NodeId = NONE;
  private conf: ConfState;

  constructor(options: ReplicaOptions) {
    super();
    this.id = options.id;
    this.storage = options.storage;
    this.transport = options.transport;
    this.clock = options.clock ?? systemClock;
    this.sendsBeforePersist = options.sendsBeforePersist ?? leaderTraffic;
    this.proposals = new PendingProposals(this.clock);
    this.appliedWaiters = new IndexWaiters(this.clock);
    this.sm = options.stateMachine;
    this.log = options.logger;
    this.tickMs = options.tickMs ?? 50;
    this.snapshotEvery = options.snapshotEvery ?? 10_000;
    this.trailing = options.trailingEntries ?? 1_000;
    this.proposalTimeoutMs = options.proposalTimeoutMs ?? 5_000;
    this.maxPending = options.maxPendingProposals ?? 10_000;
    const recovered = options.persisted ?? this.storage.recovered;
    this.raft = new RaftCore(
      {
        electionTicks: 6,
        heartbeatTicks: 2,
        ...options.raft,
        id: this.id,
        rng: options.rng ?? seededRng(randomInt(2 ** 32)),
      },
      recovered,
    );
    this.electionMs = (options.raft?.electionTicks ?? 6) * this.tickMs;
    const snapshot = recovered.snapshot;
    if (snapshot && snapshot.meta.index > 0) this.sm.restore(snapshot.data);
    this.applied = snapshot?.meta.index ?? 0;
    this.snapshotIndex = this.applied;
    this.persistedIndex = recovered.entries?.at(-1)?.index ?? this.applied;
    this.conf = this.raft.status().conf;
  }

  /** Starts ticking and listening; replays committed entries the state machine has not seen. */
  start(): void {
    this.syncPeers();
    this.transport.onMessage((m) => this.receive(m));
    this.transport.handle(FORWARD_PROPOSE, async (_from, payload) => {
      const data = (payload as { data?: unknown }).data;
      if (!(data instanceof Uint8Array)) throw new ReplicaError('INVALID_REQUEST', 'no data', 'not-proposed');
      return this.proposeHere(data);
    });
    this.ticker = this.clock.every(this.tickMs, () => {
      this.raft.tick();
      this.schedule();
    });
    this.schedule();
  }

  /**
   * Proposes a command and resolves once it has applied on this node, with the state machine's
   * result. A follower forwards it to the leader over the cluster transport.
   */
  async propose(data: Uint8Array): Promise<ProposeResult> {
    this.checkRunning();
    const leader = await this.awaitLeader();
    if (leader === this.id) return this.proposeHere(data);
    let answer: ProposeResult;
    try {
      answer = (await this.transport.request(
        leader,
        FORWARD_PROPOSE,
        { data },
        this.proposalTimeoutMs,
      )) as ProposeResult;
    } catch (err) {
      throw forwardedError(err);
    }
    // Read-your-writes: answer only once the write has applied here too.
    await this.waitForIndex(answer.index);
    return answer;
  }

  /** Proposes one membership change on the leader (thesis §4.1); resolves once applied here. */
  async proposeConfChange(cc: ConfChange): Promise<{ index: number }> {
    this.checkRunning();
    let proposed;
    try {
      proposed = this.raft.proposeConfChange(cc);
    } catch (err) {
      throw notProposed(err);
    }
    this.schedule();
    await this.proposals.wait(proposed.index, proposed.term, this.proposalTimeoutMs);
    return { index: proposed.index };
  }

  /**
   * A read point: `local` is this node's applied index (fast, maybe stale); `linearizable` asks
   * the leader for its commit index (ReadIndex) and waits until this node has applied it.
   */
  async read(consistency: Consistency): Promise<{ index: number }> {
    this.checkRunning();
    if (consistency === 'local') return { index: this.applied };
    const deadline = this.clock.now() + this.proposalTimeoutMs;
    for (;;) {
      const leader = await this.awaitLeader(deadline - this.clock.now());
      // A fresh context per attempt: an answer meant for an earlier attempt can never be taken
      // for this one (a stale leader's read index would break linearizability).
      const context = `${this.id}:${++this.readCounter}`;
      const index = await new Promise<number | undefined>((resolve) => {
        let waitMs = Math.min(this.electionMs * 2, Math.max(0, deadline - this.clock.now()));
        try {
          this.raft.readIndex(context);
          this.schedule();
        } catch {
          // The core knows no leader, though `this.leader` (updated once per Ready) still names
          // one: retry after a tick. Retrying at once spun in promise callbacks, starving the
          // event loop (and the fsync the Ready loop waited for) until the deadline.
          waitMs = Math.min(waitMs, this.tickMs);
        }
        const timer = this.clock.after(waitMs, () => finish(undefined));
        const finish = (value: number | undefined): void => {
          timer.cancel();
          this.reads.delete(context);
          resolve(value);
        };
        this.reads.set(context, { resolve: finish });
      });
      if (index !== undefined) {
        await this.waitForIndex(index, Math.max(1, deadline - this.clock.now()));
        return { index };
      }
      this.checkRunning();
      if (this.clock.now() >= deadline)
        throw new ReplicaError('TIMEOUT', `no read index from leader ${leader}`, 'not-proposed');
    }
  }

  /** Resolves once this node has applied `index` (rejects with TIMEOUT after `timeoutMs`). */
  waitForIndex(index: number, timeoutMs = this.proposalTimeoutMs): Promise<void> {
    if (this.applied >= index) return Promise.resolve();
    this.checkRunning();
    return this.appliedWaiters.wait(index, timeoutMs);
  }

  transferLeadership(to: NodeId): void {
    this.checkRunning();
    try {
      this.raft.transferLeader(to);
    } catch (err) {
      throw notProposed(err);
    }
    this.schedule();
  }

  /** Takes a snapshot of the state machine now and compacts the log behind it. */
  async snapshotNow(): Promise<{ index: number }> {
    this.checkRunning();
    await this.idle();
    await this.takeSnapshot();
    return { index: this.snapshotIndex };
  }

  /** Records where a member's cluster listener is, for members whose address is not in the log yet. */
  addPeerAddress(id: NodeId, address: string): void {
    if (id !== this.id) this.transport.addPeer(id, address);
  }

  appliedIndex(): number {
    return this.applied;
  }

  status(): ReplicaStatus {
    const raft = this.raft.status();
    const transportPeers = new Map(this.transport.peers().map((p) => [p.id, p]));
    const now = this.clock.now();
    const members = [...raft.conf.voters, ...raft.conf.learners].filter((id) => id !== this.id);
    const peers = members.map((id): PeerReplicaStatus => {
      const tp = transportPeers.get(id);
      const contact = this.lastContact.get(id);
      return {
        id,
        address: memberAddress(raft.conf, id) ?? tp?.address,
        voter: raft.conf.voters.includes(id),
        connected: tp?.connected ?? false,
        matchIndex: raft.progress[id]?.match,
        lastContactMs: contact === undefined ? undefined : now - contact,
        rttMs: tp?.rttMs,
      };
    });
    return {
      ...raft,
      peers,
      dropped: { ...this.dropped },
      fsyncs: this.storage.stats().fsyncs,
      batches: this.batches,
      snapshotsInstalled: this.snapshotsInstalled,
    };
  }

  /** Stops timers and the Ready loop; pending requests fail with STOPPED. Storage stays open. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.ticker?.cancel();
    await this.running;
    const stopped = new ReplicaError('STOPPED', 'the node is shutting down', 'unknown');
    this.proposals.rejectAll(stopped);
    this.appliedWaiters.rejectAll(stopped);
    for (const read of this.reads.values()) read.resolve(undefined);
  }

  // ---------------------------------------------------------------------------------------------

  private proposeHere(data: Uint8Array): Promise<ProposeResult> {
    if (this.proposals.size >= this.maxPending) {
      return Promise.reject(
        new ReplicaError('QUEUE_FULL', `${this.proposals.size} writes are waiting`, 'not-proposed'),
      );
    }
    let proposed;
    try {
      proposed = this.raft.propose(data);
    } catch (err) {
      return Promise.reject(notProposed(err));
    }
    this.schedule();
    return this.proposals
      .wait(proposed.index, proposed.term, this.proposalTimeoutMs)
      .then((result) => ({ index: proposed.index, result }));
  }

  /** The current leader, waiting up to `timeoutMs` (default: two election timeouts) for one. */
  private async awaitLeader(timeoutMs = this.electionMs * 2): Promise<NodeId> {
    if (this.leader !== NONE) return this.leader;
    const leader = await new Promise<NodeId>((resolve) => {
      const done = (id: NodeId): void => {
        timer.cancel();
        this.leaderWaiters.delete(done);
        resolve(id);
      };
      const timer = this.clock.after(Math.max(0, timeoutMs), () => done(NONE));
      this.leaderWaiters.add(done);
    });
    if (leader === NONE) throw new ReplicaError('NO_LEADER', 'the cluster has no leader', 'not-proposed');
    return leader;
  }

  private receive(m: Message): void {
    if (this.stopped) return;
    this.lastContact.set(m.from, this.clock.now());
    let result;
    try {
      result = this.raft.step(m);
    } catch (err) {
      this.fail(err);
      return;
    }
    if (!result.ok) this.dropped[result.reason] = (this.dropped[result.reason] ?? 0) + 1;
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    this.clock.soon(() => {
      this.scheduled = false;
      if (!this.running) this.running = this.runReadyLoop().finally(() => (this.running = undefined));
    });
  }

  private async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async runReadyLoop(): Promise<void> {
    try {
      while (!this.stopped && this.raft.hasReady()) {
        await this.handleReady(this.raft.ready());
      }
    } catch (err) {
      this.fail(err);
    }
  }

  /** What may leave before the batch is durable (the leader's replication traffic) and the rest. */
  private splitMessages(messages: readonly Message[]): { early: Message[]; late: Message[] } {
    const early: Message[] = [];
    const late: Message[] = [];
    for (const m of messages) (this.sendsBeforePersist(m) ? early : late).push(m);
    return { early, late };
  }

  private async handleReady(rd: Ready): Promise<void> {
    this.batches++;
    // The leader's own messages go out first, so followers write in parallel with the leader
    // (thesis §10.2.1): they depend on nothing this Ready persists (the leader counts its own
    // entries, but nothing it learns from that leaves this node before the next Ready, which
    // waits for this one's persistence).
    const { early, late } = this.splitMessages(rd.messages);
    if (early.length > 0) this.transport.send(early);
    // 1. Persist: no answer, vote or acknowledgement leaves before what it vouches for is durable.
    // Entries this batch replaces (a follower's conflicting suffix) are not durable any more.
    const firstNew = rd.entries[0]?.index;
    const durableBefore =
      firstNew === undefined ? this.persistedIndex : Math.min(this.persistedIndex, firstNew - 1);
    const persistStarted = performance.now();
    const saving =
      rd.snapshot || rd.entries.length > 0 || rd.hardState
        ? this.storage.save({
            ...(rd.snapshot ? { snapshot: rd.snapshot } : {}),
            entries: rd.entries,
            ...(rd.hardState ? { hardState: rd.hardState } : {}),
            mustSync: rd.mustSync,
          })
        : undefined;
    // Committed entries this node had made durable before this batch depend on nothing it
    // writes: apply them while it syncs, so their writers do not wait for a second fsync.
    let committed = rd.committed;
    if (saving && !rd.snapshot) {
      let durable = 0;
      while (durable < committed.length && (committed[durable] as Entry).index <= durableBefore) durable++;
      if (durable > 0) {
        this.apply(committed.slice(0, durable));
        committed = committed.slice(durable);
      }
    }
    if (saving) {
      await saving;
      if (rd.mustSync) this.time('persist', persistStarted, rd.entries.length);
    }
    const lastEntry = rd.entries[rd.entries.length - 1];
    if (lastEntry) this.persistedIndex = lastEntry.index;
    else if (rd.snapshot) this.persistedIndex = rd.snapshot.meta.index;
    // 2. Send the rest.
    if (late.length > 0) this.transport.send(late);
    // 3. Apply.
    if (rd.snapshot) {
      this.sm.restore(rd.snapshot.data);
      this.snapshotsInstalled++;
      this.applied = rd.snapshot.meta.index;
      this.snapshotIndex = this.applied;
      // Writes waiting below the snapshot cannot tell whether they applied.
      this.proposals.settleThrough(this.applied, () => {
        throw new ReplicaError('OUTCOME_UNKNOWN', 'a snapshot from the leader replaced the log', 'unknown');
      });
    }
    if (committed.length > 0) this.apply(committed);
    // 4. Advance.
    this.raft.advance();
    this.afterAdvance(rd);
    for (const rs of rd.readStates) this.reads.get(rs.context)?.resolve(rs.index);
    if (this.applied - this.snapshotIndex >= this.snapshotEvery && this.snapshotTimeIsRight(rd)) {
      await this.takeSnapshot();
    }
  }

  private apply(committed: readonly Entry[]): void {
    const commands = committed.filter((e) => e.type === 'normal' && e.data.length > 0);
    const last = committed[committed.length - 1] as Entry;
    const started = performance.now();
    const results = commands.length > 0 ? this.sm.apply(commands, last.index) : [];
    if (commands.length > 0) this.time('apply', started, commands.length);
    const byIndex = new Map<number, unknown>();
    commands.forEach((c, i) => byIndex.set(c.index, results[i]));
    this.applied = last.index;
    for (const entry of committed) this.proposals.settle(entry.index, entry.term, byIndex.get(entry.index));
    this.appliedWaiters.release(this.applied);
  }

  private afterAdvance(rd: Ready): void {
    if (rd.snapshot || rd.committed.length > 0) {
      this.appliedWaiters.release(this.applied);
      this.emit('applied', { index: this.applied });
    }
    const conf = this.raft.status().conf;
    if (conf !== this.conf) {
      this.conf = conf;
      this.syncPeers();
      this.emit('membership', { conf, index: this.applied });
    }
    if (rd.softState) {
      const { role, leader } = rd.softState;
      const term = this.raft.status().term;
      if (role !== this.role) {
        this.role = role;
        this.log.info({ role, term }, 'role changed');
        this.emit('role', { role, term });
      }
      if (leader !== this.leader) {
        this.leader = leader;
        this.log.info({ leader, term }, 'leader changed');
        this.emit('leader', { leader, term });
        if (leader !== NONE) for (const wake of [...this.leaderWaiters]) wake(leader);
      }
    }
  }

  private async takeSnapshot(): Promise<void> {
    if (this.applied <= this.snapshotIndex) return;
    const snapshot = this.raft.createSnapshot(this.applied, this.sm.snapshot());
    await this.storage.saveSnapshot(snapshot);
    try {
      const first = this.raft.compact(snapshot, this.trailing);
      await this.storage.compact(first);
      this.snapshotIndex = snapshot.meta.index;
      this.log.info({ index: snapshot.meta.index, bytes: snapshot.data.length, first }, 'snapshot taken');
    } catch (err) {
      // A snapshot from the leader replaced the log meanwhile: ours is already obsolete.
      if (!(err instanceof RaftError)) throw err;
    }
  }

  /**
   * Serialising a large state machine blocks the event loop (about 150-250 ms for the model at
   * 100k identities). A leader therefore snapshots only right after a Ready that sent heartbeats
   * (at most one heartbeat interval later): the followers have just heard from it, so the stall
   * has a whole election timeout to fit in before any of them would start a (pre-)vote. A leader
   * alone has no one to keep informed.
   */
  private snapshotTimeIsRight(rd: Ready): boolean {
    const alone = this.conf.voters.length + this.conf.learners.length <= 1;
    return this.role !== 'leader' || alone || rd.messages.some((m) => m.type === 'heartbeat');
  }

  /** Connects to every member whose address the membership carries. */
  private syncPeers(): void {
    const members = new Set([...this.conf.voters, ...this.conf.learners]);
    for (const id of members) {
      const address = memberAddress(this.conf, id);
      if (id !== this.id && address) this.transport.addPeer(id, address);
    }
    for (const peer of this.transport.peers()) if (!members.has(peer.id)) this.transport.removePeer(peer.id);
  }

  private time(kind: 'persist' | 'apply', started: number, entries: number): void {
    if (this.listenerCount('timing') > 0) {
      this.emit('timing', { kind, seconds: (performance.now() - started) / 1000, entries });
    }
  }

  private checkRunning(): void {
    if (this.stopped) throw new ReplicaError('STOPPED', 'the node is shutting down', 'not-proposed');
  }

  private fail(err: unknown): void {
    const error = err instanceof Error ? err : new Error(String(err));
    this.log.fatal({ err: error }, 'replica stopped: unrecoverable error');
    void this.stop();
    this.emit('fatal', error);
  }
}

/** What only a leader sends: replication traffic, which vouches for nothing of this Ready. */
/** The leader's replication traffic: it vouches for nothing this node has not yet made durable. */
export function leaderTraffic(m: Message): boolean {
  return m.type === 'append' || m.type === 'heartbeat' || m.type === 'snapshot' || m.type === 'timeoutNow';
}

function notProposed(err: unknown): ReplicaError {
  if (err instanceof RaftError) {
    const code = err.code === 'NOT_LEADER' || err.code === 'NO_LEADER' ? 'NO_LEADER' : 'INVALID_REQUEST';
    return new ReplicaError(code, err.message, 'not-proposed');
  }
  return err instanceof ReplicaError ? err : new ReplicaError('INVALID_REQUEST', String(err), 'not-proposed');
}

/** An error from a write forwarded to the leader: keep what the leader knew, else unknown. */
export function forwardedError(err: unknown): ReplicaError {
  const code = (err as { code?: unknown })?.code;
  const message = err instanceof Error ? err.message : String(err);
  if (code === 'NO_LEADER' || code === 'QUEUE_FULL' || code === 'INVALID_REQUEST') {
    return new ReplicaError(code, message, 'not-proposed');
  }
  if (code === 'PROPOSAL_DROPPED') return new ReplicaError(code, message, 'not-applied');
  return new ReplicaError('OUTCOME_UNKNOWN', `forwarding to the leader failed: ${message}`, 'unknown');
}
