/**
 * A cluster of real Replicas (core/replication/replica.ts) on the simulated network, each with a
 * disk model and a state machine, on a virtual clock (clock.ts). The Replica's own Ready loop
 * runs here exactly as in production; only its clock, storage and transport are the simulator's.
 * `step` runs the next event (the timers due at one virtual millisecond, or one packet), lets
 * the Replicas' promise callbacks run, and the caller then checks every invariant. Nodes crash
 * (the Replica and its state machine vanish, the disk keeps what was synced and some of the
 * rest) and restart from what their disk holds.
 */
import { pino } from 'pino';
import { bootstrapState } from '../../core/raft/bootstrap.js';
import type { Entry, Message, NodeId, RaftOptions, Role } from '../../core/raft/types.js';
import { Replica } from '../../core/replication/replica.js';

/**
 * Reorderings that break the Ready contract, planted so that the simulator shows it catches them
 * (sim.test.ts):
 * - `send-all-before-persist`: every message leaves before the batch is durable, votes and
 *   acknowledgements included (only the leader's own replication traffic may).
 */
export type PlantedBug = 'send-all-before-persist';
import type { CommittedCommand, StateMachine } from '../../core/replication/state-machine.js';
import { EventLoop, NodeClock } from './clock.js';
import { SimDisk } from './disk.js';
import type { InvariantChecker } from './invariants.js';
import { Network, type LinkConditions } from './network.js';
import type { SimRng } from './rng.js';
import { KvStateMachine } from './state-machine.js';
import { NodeStorage, type LogView } from './storage.js';
import { describeMessage, type Trace } from './trace.js';
import { SimTransport, type Packet } from './transport.js';
import { Violation } from './violation.js';

export interface ClusterConfig {
  readonly tickMs: number;
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  /** Options passed to every core besides id, rng and the timing above. */
  readonly raft: Omit<RaftOptions, 'id' | 'rng' | 'electionTicks' | 'heartbeatTicks'>;
  readonly links: LinkConditions;
  /** The Replica snapshots by itself every this many applied entries. */
  readonly snapshotEvery: number;
  /** Entries kept below a snapshot (per node, at random up to this). */
  readonly maxTrailing: number;
  /** Test-only: a reordering planted in every Replica, which some invariant must catch. */
  readonly plantedBug?: PlantedBug;
}

const SILENT = pino({ level: 'silent' });

export class SimNode {
  replica: Replica | undefined;
  clock: NodeClock | undefined;
  transport: SimTransport | undefined;
  disk: SimDisk | undefined;
  sm = new KvStateMachine();
  stateMachine: StateMachine | undefined;
  incarnation = 0;
  /** Gone for good (removed from the cluster and shut down): never restarted. */
  retired = false;
  role: Role = 'follower';
  leader: NodeId = '';
  term = 0;
  /** The applied index the membership check last saw. */
  checkedApplied = -1;
  readonly storage = new NodeStorage();

  constructor(
    readonly id: NodeId,
    /** Offset of this node's ticks within a tick period: nodes do not tick in lockstep. */
    readonly phase: number,
  ) {}

  get up(): boolean {
    return this.replica !== undefined;
  }
}

export interface ClusterStats {
  delivered: number;
  droppedCut: number;
  droppedDown: number;
  requests: number;
  crashes: number;
  restarts: number;
  fsyncs: number;
  compactions: number;
  snapshotsInstalled: number;
  /** Appends with entries a leader sent before they were durable on its own disk. */
  earlySends: number;
  /** Acknowledgements a leader received for entries its own fsync had not finished yet. */
  acksBeforeLeaderSync: number;
  /** Applies of (durable) committed entries made while an fsync was in flight on that node. */
  appliedWhileSyncing: number;
}

export class Cluster {
  readonly loop = new EventLoop();
  readonly nodes = new Map<NodeId, SimNode>();
  readonly network: Network<Packet>;
  readonly stats: ClusterStats = {
    delivered: 0,
    droppedCut: 0,
    droppedDown: 0,
    requests: 0,
    crashes: 0,
    restarts: 0,
    fsyncs: 0,
    compactions: 0,
    snapshotsInstalled: 0,
    earlySends: 0,
    acksBeforeLeaderSync: 0,
    appliedWhileSyncing: 0,
  };
  private failure: Violation | undefined;
  private checkedVersion = -1;
  private checkedDurableVersion = -1;
  private checkedCommit = -1;

  constructor(
    private readonly rng: SimRng,
    readonly config: ClusterConfig,
    readonly checker: InvariantChecker,
    readonly trace: Trace,
  ) {
    this.network = new Network<Packet>(rng.fork('network'), config.links);
  }

  get now(): number {
    return this.loop.now;
  }

  /**
   * Starts a new cluster the way the core bootstraps one: every initial node's disk holds the
   * same committed `addVoter` entries, one per member, which a node added later receives like
   * any other entries.
   */
  bootstrap(ids: readonly NodeId[]): void {
    const initial = bootstrapState(ids.map((id) => ({ id })));
    for (const id of ids) {
      const node = this.createNode(id);
      node.storage.bootstrap(initial);
      this.start(node);
    }
  }

  /** A node that joins later starts empty and learns everything from the leader. */
  addNode(id: NodeId): SimNode {
    if (this.nodes.has(id)) throw new Error(`node id ${id} reused`);
    const node = this.createNode(id);
    this.start(node);
    this.trace.add(this.now, `join ${id} (empty)`);
    return node;
  }

  get(id: NodeId): SimNode | undefined {
    return this.nodes.get(id);
  }

  upNodes(): SimNode[] {
    return [...this.nodes.values()].filter((n) => n.up);
  }

  /** The leader with the highest term among the nodes that are up, if any. */
  leader(): SimNode | undefined {
    let best: SimNode | undefined;
    for (const n of this.nodes.values()) {
      if (n.up && n.role === 'leader' && (!best || n.term > best.term)) best = n;
    }
    return best;
  }

  /** Runs `run` after `delayMs` of virtual time (the workload's and the faults' own timers). */
  schedule(delayMs: number, run: () => void): void {
    this.loop.at(this.now + delayMs, run);
  }

  crash(id: NodeId): void {
    const node = this.nodes.get(id);
    if (!node?.up) return;
    this.stopNode(node);
    const { kept, lost } = node.storage.crash(this.rng.fork(`crash:${id}:${node.incarnation}`));
    this.stats.crashes++;
    this.trace.add(this.now, `crash ${id} (unsynced writes kept ${kept}, lost ${lost})`);
  }

  restart(id: NodeId): void {
    const node = this.nodes.get(id);
    if (!node || node.up || node.retired) return;
    this.stats.restarts++;
    this.trace.add(this.now, `restart ${id}`);
    this.start(node);
  }

  /** A removed node is shut down for good. */
  retire(id: NodeId): void {
    const node = this.nodes.get(id);
    if (!node || node.retired) return;
    node.retired = true;
    this.stopNode(node);
    this.trace.add(this.now, `retire ${id}`);
  }

  /** A broken invariant seen inside a callback: the run ends with it after this step. */
  fail(v: Violation): void {
    this.failure ??= v;
  }

  /** Anything thrown by the code under test: a Violation as it is, anything else as `core-threw`. */
  violationOf(node: SimNode, what: string, err: unknown): Violation {
    if (err instanceof Violation) return err;
    const message = err instanceof Error ? err.message : String(err);
    return new Violation('core-threw', `${node.id}.${what}: ${message}`);
  }

  /** When the next event is due; undefined when nothing will ever happen again. */
  nextEventAt(): number | undefined {
    const timer = this.loop.nextTimerAt();
    const msg = this.network.nextAt();
    if (timer === undefined) return msg;
    return msg !== undefined && msg < timer ? msg : timer;
  }

  /** Runs the next event: the timers due first, else one packet; then every callback it caused. */
  async step(): Promise<boolean> {
    await this.loop.settle();
    this.throwIfFailed();
    const at = this.nextEventAt();
    if (at === undefined) return false;
    this.loop.now = at;
    if (this.loop.nextTimerAt() === at) {
      await this.loop.runTimersAt(at);
    } else {
      this.deliverNext();
      await this.loop.settle();
    }
    this.throwIfFailed();
    return true;
  }

  /** Every invariant over the whole cluster, after a step. */
  checkInvariants(): void {
    const leaders: { node: NodeId; term: number; log: LogView }[] = [];
    let version = 0;
    let durableVersion = 0;
    for (const n of this.nodes.values()) {
      const replica = n.replica;
      if (replica && replica.appliedIndex() !== n.checkedApplied) this.checkNode(n, replica);
      version += n.storage.version;
      durableVersion += n.storage.durableVersion;
      if (n.up && n.role === 'leader') leaders.push({ node: n.id, term: n.term, log: n.storage.view });
    }
    this.checker.checkLeaders(leaders);
    // Disks only change by writes, fsyncs and crashes, each of which bumps a version: when no
    // disk changed, neither did what these two checks look at (besides what was committed).
    if (version !== this.checkedVersion) {
      this.checker.checkLogMatching(new Map([...this.nodes.values()].map((n) => [n.id, n.storage.view])));
    }
    if (durableVersion !== this.checkedDurableVersion || this.checker.maxCommitted !== this.checkedCommit) {
      this.checker.checkDurability(new Map([...this.nodes.values()].map((n) => [n.id, n.storage.durable])));
    }
    this.checkedVersion = version;
    this.checkedDurableVersion = durableVersion;
    this.checkedCommit = this.checker.maxCommitted;
  }

  /**
   * A node's membership is the committed one at its applied index, and only voters lead; the
   * no-ops and membership changes it applied are fed to the checker here (see SimStateMachine).
   */
  private checkNode(node: SimNode, replica: Replica): void {
    const s = replica.status();
    node.term = s.term;
    node.checkedApplied = replica.appliedIndex();
    (node.stateMachine as SimStateMachine).catchUp(s.applied);
    this.checker.checkMembership(node.id, s.applied, s.conf, s.role);
    if (s.role === 'leader') this.checker.observeLeader(node.id, s.term);
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure;
  }

  private deliverNext(): void {
    const delivery = this.network.deliverNext();
    if (!delivery) return;
    const p = delivery.message;
    const line =
      p.type === 'request'
        ? `${p.from}->${p.to} request #${p.id} ${p.method}`
        : p.type === 'response'
          ? `${p.from}->${p.to} response #${p.id}${p.error ? ` ${p.error.code}` : ''}`
          : describeMessage(p);
    if (delivery.cut) {
      this.stats.droppedCut++;
      this.trace.add(this.now, `${line} (cut)`);
      return;
    }
    const target = this.nodes.get(p.to);
    if (!target?.transport || !target.up) {
      this.stats.droppedDown++;
      this.trace.add(this.now, `${line} (${p.to} down)`);
      return;
    }
    if (p.type === 'request' || p.type === 'response') {
      this.stats.requests++;
      this.loop.touch();
    } else {
      this.stats.delivered++;
    }
    const early = p.type === 'appendResponse' && !p.reject && this.beforeOwnSync(target, p.index);
    if (early) this.stats.acksBeforeLeaderSync++;
    this.trace.add(this.now, early ? `${line} (before ${p.to}'s own fsync)` : line);
    target.transport.deliver(p);
  }

  /** The leader `node` holds `index` but its fsync of it has not finished. */
  private beforeOwnSync(node: SimNode, index: number): boolean {
    if (node.role !== 'leader') return false;
    const mine = node.storage.view.entry(index);
    return mine !== undefined && node.storage.durable.entry(index)?.term !== mine.term;
  }

  private sent(node: SimNode, m: Message): void {
    // A granted vote is a promise to the candidate, whatever the voter's disk says.
    if (m.type === 'voteResponse' && !m.reject) {
      this.checker.observeHardState(node.id, { term: m.term, vote: m.to, commit: 0 });
    }
    if (m.type !== 'append' || m.entries.length === 0) return;
    const last = m.entries[m.entries.length - 1] as Entry;
    if (node.storage.durable.entry(last.index)?.term !== last.term) this.stats.earlySends++;
  }

  private createNode(id: NodeId): SimNode {
    const node = new SimNode(id, 10 * this.rng.fork(`phase:${id}`).int(this.config.tickMs / 10));
    this.nodes.set(id, node);
    return node;
  }

  private stopNode(node: SimNode): void {
    node.clock?.kill();
    node.replica = undefined;
    node.clock = undefined;
    node.transport = undefined;
    node.disk = undefined;
    node.role = 'follower';
    node.leader = '';
  }

  private start(node: SimNode): void {
    node.incarnation++;
    const { id, incarnation } = node;
    const clock = new NodeClock(this.loop, node.phase);
    const disk = new SimDisk(
      id,
      node.storage,
      clock,
      this.rng.fork(`disk:${id}:${incarnation}`),
      this.checker,
      this.stats,
      this.trace,
      (err) => this.fail(this.violationOf(node, 'fsync', err)),
    );
    const transport = new SimTransport(
      id,
      clock,
      this.network,
      (m) => this.sent(node, m),
      (v) => this.fail(v),
    );
    const sm = new SimStateMachine(this, node, disk);
    const nodeRng = this.rng.fork(`raft:${id}:${incarnation}`);
    let replica: Replica;
    try {
      replica = new Replica({
        id,
        storage: disk,
        transport,
        stateMachine: sm,
        logger: SILENT,
        clock,
        rng: nodeRng,
        tickMs: this.config.tickMs,
        raft: {
          ...this.config.raft,
          electionTicks: this.config.electionTicks,
          heartbeatTicks: this.config.heartbeatTicks,
        },
        snapshotEvery: this.config.snapshotEvery,
        trailingEntries: this.rng.fork(`trailing:${id}:${incarnation}`).int(this.config.maxTrailing + 1),
        ...(this.config.plantedBug === 'send-all-before-persist' ? { sendsBeforePersist: () => true } : {}),
      });
    } catch (err) {
      throw this.violationOf(node, 'constructor', err);
    }
    sm.started = true;
    const snapshot = disk.recovered.snapshot;
    if (sm.kv.applied !== (snapshot?.meta.index ?? 0)) {
      throw new Violation(
        'snapshot',
        `${id}'s stored snapshot ${snapshot?.meta.index} holds state at ${sm.kv.applied}`,
      );
    }
    this.checker.observeStart(id, sm.kv.applied);
    node.replica = replica;
    node.clock = clock;
    node.transport = transport;
    node.disk = disk;
    node.sm = sm.kv;
    node.stateMachine = sm;
    node.checkedApplied = -1;
    const st = replica.status();
    node.role = st.role;
    node.leader = st.leader;
    node.term = st.term;
    const guard = (what: string, fn: () => void): void => {
      if (!clock.isAlive) return;
      try {
        fn();
      } catch (err) {
        this.fail(this.violationOf(node, what, err));
      }
    };
    replica.on('role', ({ role, term }) =>
      guard('role', () => {
        node.role = role;
        node.term = term;
        this.trace.add(this.now, `${id} becomes ${role} in term ${term}`);
        this.checkNode(node, replica);
      }),
    );
    replica.on('leader', ({ leader, term }) =>
      guard('leader', () => {
        node.leader = leader;
        node.term = Math.max(node.term, term);
      }),
    );
    replica.on('fatal', (err) => guard('fatal', () => this.fail(this.violationOf(node, 'fatal', err))));
    try {
      replica.start();
    } catch (err) {
      throw this.violationOf(node, 'start', err);
    }
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The Replica's state machine: the key/value model, fed every entry the node applies. The
 * Replica hands over only commands (no-ops and membership changes are not the state machine's
 * business), so the entries between them are read from the node's disk, which also checks that
 * what is applied is what the disk durably holds.
 */
class SimStateMachine implements StateMachine {
  readonly kv = new KvStateMachine();
  /** False while the Replica's constructor restores the stored snapshot. */
  started = false;

  constructor(
    private readonly cluster: Cluster,
    private readonly node: SimNode,
    private readonly disk: SimDisk,
  ) {}

  apply(commands: readonly CommittedCommand[], appliedIndex: number): unknown[] {
    const from = this.kv.applied + 1;
    const results = this.applyThrough(appliedIndex, commands);
    if (this.disk.syncing > 0) {
      this.cluster.stats.appliedWhileSyncing++;
      this.cluster.trace.add(
        this.cluster.now,
        `${this.node.id} applies ${from}..${appliedIndex} while an fsync is in flight`,
      );
    }
    return results;
  }

  /** Entries without commands (no-ops, membership changes) the Replica applied by itself. */
  catchUp(applied: number): void {
    if (applied > this.kv.applied) this.applyThrough(applied, []);
  }

  /** The Replica labels it with its applied index: apply the no-ops up to there first. */
  snapshot(): Uint8Array {
    this.catchUp(this.node.replica?.appliedIndex() ?? this.kv.applied);
    return this.kv.snapshot();
  }

  restore(data: Uint8Array): void {
    this.kv.restore(data);
    if (!this.started) return;
    // A snapshot from the leader: the Replica saved it (durably) before installing it.
    const stored = this.node.storage.durable;
    const snap = this.node.storage.snapshot;
    if (!snap || !sameBytes(snap.data, data) || stored.snapshotIndex < snap.meta.index) {
      throw new Violation(
        'ready-contract',
        `${this.node.id} installs a snapshot its disk does not durably hold`,
      );
    }
    this.cluster.checker.observeRestore(this.node.id, snap.meta, this.kv.digest, this.kv.applied);
    this.cluster.stats.snapshotsInstalled++;
    this.cluster.trace.add(
      this.cluster.now,
      `${this.node.id} installs snapshot ${snap.meta.index}/${snap.meta.term}`,
    );
  }

  private applyThrough(last: number, commands: readonly CommittedCommand[]): unknown[] {
    const { id, storage } = this.node;
    // The term of the node's latest Ready: at least the term in which these entries were known
    // committed (the checker takes it as an upper bound on their commit term).
    const term = storage.hardState?.term ?? 0;
    const results: unknown[] = [];
    let c = 0;
    for (let i = this.kv.applied + 1; i <= last; i++) {
      const e = storage.view.entry(i);
      if (!e)
        throw new Violation('ready-contract', `${id} is told to apply ${i}, which its disk does not hold`);
      if (storage.durable.entry(i)?.term !== e.term) {
        throw new Violation(
          'ready-contract',
          `${id} applies ${i}/${e.term} before it is durable on its disk`,
        );
      }
      if (e.type === 'normal' && e.data.length > 0) {
        const cmd = commands[c++];
        if (!cmd || cmd.index !== i || cmd.term !== e.term || !sameBytes(cmd.data, e.data)) {
          throw new Violation(
            'ready-contract',
            `${id}: the commands it applies do not match its log at ${i}`,
          );
        }
        results.push(i);
      }
      this.kv.apply(e);
      this.cluster.checker.observeApply(id, e, term, this.kv.digest);
    }
    if (c !== commands.length) {
      throw new Violation('ready-contract', `${id} is given commands beyond ${last} or out of order`);
    }
    return results;
  }
}
