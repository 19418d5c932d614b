/**
 * A cluster of RaftCore nodes on the simulated network, each with a disk model and a state
 * machine, driven on a virtual clock. `processReady` is the driver loop exactly as the Ready
 * contract says; `step` runs the next event (a timer, a batch of ticks, or one message) and then
 * every invariant. Nodes crash (the core and the state machine vanish, the disk keeps what was
 * synced and some of the rest) and restart from what their disk holds.
 */
import { bootstrapState } from '../../core/raft/bootstrap.js';
import { RaftError } from '../../core/raft/errors.js';
import { RaftCore } from '../../core/raft/raft.js';
import type { Message, NodeId, RaftOptions, ReadState, Role } from '../../core/raft/types.js';
import { TimedHeap } from './heap.js';
import type { InvariantChecker } from './invariants.js';
import { Network, type LinkConditions } from './network.js';
import type { SimRng } from './rng.js';
import { KvStateMachine } from './state-machine.js';
import { NodeStorage, type LogView } from './storage.js';
import { describeMessage, type Trace } from './trace.js';
import { Violation } from './violation.js';

export interface ClusterConfig {
  readonly tickMs: number;
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  /** Options passed to every core besides id, rng and the timing above. */
  readonly raft: Omit<RaftOptions, 'id' | 'rng' | 'electionTicks' | 'heartbeatTicks'>;
  readonly links: LinkConditions;
}

export class SimNode {
  core: RaftCore | undefined;
  sm = new KvStateMachine();
  incarnation = 0;
  nextTickAt = 0;
  /** Gone for good (removed from the cluster and shut down): never restarted. */
  retired = false;
  role: Role = 'follower';
  leader: NodeId = '';
  term = 0;
  readonly storage = new NodeStorage();

  constructor(
    readonly id: NodeId,
    /** Offset of this node's ticks within a tick period: nodes do not tick in lockstep. */
    readonly phase: number,
  ) {}

  get up(): boolean {
    return this.core !== undefined;
  }
}

interface Timer {
  readonly at: number;
  readonly seq: number;
  readonly label: string;
  readonly run: () => void;
}

export interface ClusterStats {
  delivered: number;
  droppedCut: number;
  droppedDown: number;
  rejected: number;
  crashes: number;
  restarts: number;
  compactions: number;
  snapshotsInstalled: number;
}

export class Cluster {
  now = 0;
  readonly nodes = new Map<NodeId, SimNode>();
  readonly network: Network<Message>;
  readonly stats: ClusterStats = {
    delivered: 0,
    droppedCut: 0,
    droppedDown: 0,
    rejected: 0,
    crashes: 0,
    restarts: 0,
    compactions: 0,
    snapshotsInstalled: 0,
  };
  /** Told of every ReadState a node serves (the workload resolves its reads with it). */
  onReadState: (node: NodeId, rs: ReadState) => void = () => {};
  private readonly timers = new TimedHeap<Timer>();
  private checkedVersion = -1;
  private checkedCommit = -1;
  private timerSeq = 0;

  constructor(
    private readonly rng: SimRng,
    readonly config: ClusterConfig,
    readonly checker: InvariantChecker,
    readonly trace: Trace,
  ) {
    this.network = new Network<Message>(rng.fork('network'), config.links);
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

  schedule(delayMs: number, label: string, run: () => void): void {
    this.timers.push({ at: this.now + delayMs, seq: this.timerSeq++, label, run });
  }

  crash(id: NodeId): void {
    const node = this.nodes.get(id);
    if (!node?.core) return;
    node.core = undefined;
    node.role = 'follower';
    node.leader = '';
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
    node.core = undefined;
    node.role = 'follower';
    this.trace.add(this.now, `retire ${id}`);
  }

  /**
   * Compaction as a driver does it: snapshot the state machine at its applied index, persist the
   * snapshot, let the core drop its log below it (keeping `trailing` entries), then drop the same
   * entries from the disk.
   */
  compact(id: NodeId, trailing: number): boolean {
    const node = this.nodes.get(id);
    const core = node?.core;
    if (!node || !core) return false;
    const applied = node.sm.applied;
    if (applied <= node.storage.view.snapshotIndex) return false;
    const snap = this.call(node, 'createSnapshot', () => core.createSnapshot(applied, node.sm.snapshot()));
    this.checker.checkSnapshotMeta(id, snap.meta, node.sm.digest);
    node.storage.saveSnapshot(snap);
    const first = this.call(node, 'compact', () => core.compact(snap, trailing));
    if (first > applied + 1) {
      throw new Violation(
        'compaction',
        `${id} compacted to ${applied} but says entries from ${first} are all it holds`,
      );
    }
    node.storage.dropEntriesBelow(first);
    this.stats.compactions++;
    this.trace.add(
      this.now,
      `compact ${id} snapshot ${snap.meta.index}/${snap.meta.term} (${snap.data.length} bytes), keep from ${first}`,
    );
    return true;
  }

  /** When the next event is due; undefined when nothing will ever happen again. */
  nextEventAt(): number | undefined {
    let at = this.timers.peek()?.at;
    const msg = this.network.nextAt();
    if (msg !== undefined && (at === undefined || msg < at)) at = msg;
    for (const n of this.nodes.values()) {
      if (n.up && (at === undefined || n.nextTickAt < at)) at = n.nextTickAt;
    }
    return at;
  }

  /** Runs the next event: due timers first, then the nodes' ticks, then one message. */
  step(): boolean {
    const at = this.nextEventAt();
    if (at === undefined) return false;
    this.now = at;
    const timer = this.timers.peek();
    if (timer && timer.at === at) {
      this.timers.pop();
      timer.run();
      return true;
    }
    const due = [...this.nodes.values()].filter((n) => n.up && n.nextTickAt === at);
    if (due.length > 0) {
      this.trace.add(this.now, `tick ${due.map((n) => n.id).join(' ')}`);
      for (const n of due) {
        n.nextTickAt += this.config.tickMs;
        const core = n.core as RaftCore;
        this.call(n, 'tick', () => core.tick());
        this.processReady(n);
      }
      return true;
    }
    const delivery = this.network.deliverNext();
    if (!delivery) return true;
    const m = delivery.message;
    const target = this.nodes.get(m.to);
    if (delivery.cut) {
      this.stats.droppedCut++;
      this.trace.add(this.now, `${describeMessage(m)} (cut)`);
      return true;
    }
    if (!target?.core) {
      this.stats.droppedDown++;
      this.trace.add(this.now, `${describeMessage(m)} (${m.to} down)`);
      return true;
    }
    const core = target.core;
    const result = this.call(target, 'step', () => core.step(m));
    this.stats.delivered++;
    if (!result.ok) this.stats.rejected++;
    this.trace.add(
      this.now,
      result.ok ? describeMessage(m) : `${describeMessage(m)} (dropped: ${result.reason})`,
    );
    this.processReady(target);
    return true;
  }

  /**
   * The driver loop, in the order the Ready contract gives: persist the snapshot, the entries and
   * the hard state (synced when mustSync); send the messages; install the snapshot and apply the
   * committed entries; serve the read states; advance.
   */
  processReady(node: SimNode): void {
    const core = node.core;
    if (!core) return;
    while (core.hasReady()) {
      const rd = this.call(node, 'ready', () => core.ready());
      const prev = node.storage.hardState ?? { term: 0, vote: '', commit: 0 };
      const needSync =
        rd.entries.length > 0 ||
        rd.snapshot !== undefined ||
        (rd.hardState !== undefined && (rd.hardState.term !== prev.term || rd.hardState.vote !== prev.vote));
      if (needSync && !rd.mustSync) {
        throw new Violation(
          'ready-contract',
          `${node.id}: a Ready with entries, a snapshot or a new term/vote has mustSync false`,
        );
      }
      if (rd.hardState) this.checker.observeHardState(node.id, rd.hardState);
      node.storage.persistReady(rd, rd.mustSync);

      for (const m of rd.messages) {
        if (m.from !== node.id)
          throw new Violation('ready-contract', `${node.id} sends a message from ${m.from}`);
        this.network.send(this.now, m);
      }

      const term = rd.hardState?.term ?? node.term;
      if (rd.snapshot) {
        node.sm.restore(rd.snapshot.data);
        this.checker.observeRestore(node.id, rd.snapshot.meta, node.sm.digest, node.sm.applied);
        this.stats.snapshotsInstalled++;
        this.trace.add(
          this.now,
          `${node.id} installs snapshot ${rd.snapshot.meta.index}/${rd.snapshot.meta.term}`,
        );
      }
      for (const e of rd.committed) {
        const stored = node.storage.view.entry(e.index);
        if (stored?.term !== e.term) {
          throw new Violation(
            'ready-contract',
            `${node.id} is told to apply ${e.index}/${e.term}, which its disk does not hold`,
          );
        }
        if (e.index !== node.sm.applied + 1) {
          throw new Violation(
            'apply-order',
            `${node.id} is told to apply ${e.index} after ${node.sm.applied}`,
          );
        }
        node.sm.apply(e);
        this.checker.observeApply(node.id, e, term, node.sm.digest);
      }
      for (const rs of rd.readStates) {
        this.checker.observeReadState(node.id, rs);
        this.onReadState(node.id, rs);
      }
      if (rd.softState) {
        const { role, leader } = rd.softState;
        if (role !== node.role) this.trace.add(this.now, `${node.id} becomes ${role} in term ${term}`);
        node.role = role;
        node.leader = leader;
      }
      node.term = term;
      this.call(node, 'advance', () => core.advance());
    }
    const st = core.status();
    if (st.applied !== node.sm.applied) {
      throw new Violation(
        'apply-order',
        `${node.id}: the core says applied ${st.applied}, the state machine ${node.sm.applied}`,
      );
    }
    node.role = st.role;
    node.leader = st.leader;
    node.term = st.term;
    this.checker.checkMembership(node.id, st.applied, st.conf, st.role);
    if (st.role === 'leader') this.checker.observeLeader(node.id, st.term);
  }

  /** Every invariant over the whole cluster, after a step. */
  checkInvariants(): void {
    const leaders: { node: NodeId; term: number; log: LogView }[] = [];
    const views = new Map<NodeId, LogView>();
    const durable = new Map<NodeId, LogView>();
    let version = 0;
    for (const n of this.nodes.values()) {
      views.set(n.id, n.storage.view);
      durable.set(n.id, n.storage.durable);
      version += n.storage.version;
      if (n.up && n.role === 'leader') leaders.push({ node: n.id, term: n.term, log: n.storage.view });
    }
    this.checker.checkLeaders(leaders);
    // Disks only change by writes and crashes, each of which bumps its version: when no disk
    // changed, neither did what these two checks look at (besides what was committed).
    if (version !== this.checkedVersion) this.checker.checkLogMatching(views);
    if (version !== this.checkedVersion || this.checker.maxCommitted !== this.checkedCommit) {
      this.checker.checkDurability(durable);
    }
    this.checkedVersion = version;
    this.checkedCommit = this.checker.maxCommitted;
  }

  /**
   * Calls into the core. A RaftError is the caller's to handle; anything else thrown is a broken
   * promise of the core (it never throws for a bad message) and fails the run.
   */
  call<T>(node: SimNode, what: string, fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (err instanceof RaftError || err instanceof Violation) throw err;
      const message = err instanceof Error ? err.message : String(err);
      throw new Violation('core-threw', `${node.id}.${what}() threw: ${message}`);
    }
  }

  private createNode(id: NodeId): SimNode {
    const node = new SimNode(id, 10 * this.rng.fork(`phase:${id}`).int(this.config.tickMs / 10));
    this.nodes.set(id, node);
    return node;
  }

  private start(node: SimNode): void {
    node.incarnation++;
    const persisted = node.storage.persisted();
    const options: RaftOptions = {
      ...this.config.raft,
      id: node.id,
      rng: this.rng.fork(`raft:${node.id}:${node.incarnation}`),
      electionTicks: this.config.electionTicks,
      heartbeatTicks: this.config.heartbeatTicks,
    };
    node.core = this.call(node, 'constructor', () => new RaftCore(options, persisted));
    node.sm = new KvStateMachine();
    const snapshot = persisted.snapshot;
    if (snapshot) node.sm.restore(snapshot.data);
    if (node.sm.applied !== (snapshot?.meta.index ?? 0)) {
      throw new Violation(
        'snapshot',
        `${node.id}'s stored snapshot ${snapshot?.meta.index} holds state at ${node.sm.applied}`,
      );
    }
    this.checker.observeStart(node.id, node.sm.applied);
    const st = node.core.status();
    node.role = st.role;
    node.leader = st.leader;
    node.term = st.term;
    const period = this.config.tickMs;
    node.nextTickAt = (Math.floor(this.now / period) + 1) * period + node.phase;
    this.processReady(node);
  }
}
