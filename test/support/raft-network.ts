/**
 * A synchronous in-memory network of RaftCore nodes for scenario tests and the raft benchmark.
 * Messages are delivered in order, one Ready at a time, and can be filtered (dropped) per link.
 * Persistence is perfect here (the simulator in test/sim models crashes and lost writes).
 */
import { bootstrapState } from '../../core/raft/bootstrap.js';
import { RaftCore } from '../../core/raft/raft.js';
import { seededRng } from '../../core/raft/rng.js';
import type {
  Entry,
  HardState,
  Message,
  NodeId,
  RaftOptions,
  ReadState,
  Snapshot,
} from '../../core/raft/types.js';

export interface StoredNode {
  hardState?: HardState;
  snapshot?: Snapshot;
  entries: Entry[];
}

export interface NetworkOptions extends Partial<Omit<RaftOptions, 'id' | 'rng'>> {
  seed?: number;
}

export class RaftNetwork {
  readonly nodes = new Map<NodeId, RaftCore>();
  readonly stored = new Map<NodeId, StoredNode>();
  readonly applied = new Map<NodeId, Entry[]>();
  readonly readStates = new Map<NodeId, ReadState[]>();
  /** Every message delivered, in order, as one line each: the scenario's trace. */
  readonly trace: string[] = [];
  /** Messages that are dropped: return true to drop. */
  filter: (m: Message) => boolean = () => false;
  private readonly cut = new Set<string>();
  private readonly queue: Message[] = [];
  traceMessages = true;

  constructor(
    readonly ids: NodeId[],
    private readonly options: NetworkOptions = {},
  ) {
    for (const id of ids) {
      const initial = bootstrapState(ids.map((voter) => ({ id: voter })));
      this.stored.set(id, { hardState: initial.hardState as HardState, entries: [...initial.entries] });
    }
    for (const id of ids) this.start(id);
  }

  /** Starts (or restarts) `id` from what it stored. */
  start(id: NodeId): RaftCore {
    const stored = this.stored.get(id) ?? { entries: [] };
    this.stored.set(id, stored);
    const { seed = 1, ...rest } = this.options;
    const node = new RaftCore(
      { id, rng: seededRng(seed * 7919 + hash(id)), electionTicks: 10, heartbeatTicks: 1, ...rest },
      {
        ...(stored.hardState ? { hardState: stored.hardState } : {}),
        ...(stored.snapshot ? { snapshot: stored.snapshot } : {}),
        entries: stored.entries,
      },
    );
    this.nodes.set(id, node);
    this.applied.set(id, []);
    this.readStates.set(id, []);
    return node;
  }

  /** A node that joins later, with an empty log and no membership. */
  addNode(id: NodeId): RaftCore {
    this.stored.set(id, { entries: [] });
    if (!this.ids.includes(id)) this.ids.push(id);
    return this.start(id);
  }

  stop(id: NodeId): void {
    this.nodes.delete(id);
  }

  node(id: NodeId): RaftCore {
    const node = this.nodes.get(id);
    if (!node) throw new Error(`node ${id} is not running`);
    return node;
  }

  isolate(id: NodeId): void {
    for (const other of this.ids) if (other !== id) this.cutLink(id, other);
  }

  cutLink(a: NodeId, b: NodeId): void {
    this.cut.add(`${a}>${b}`);
    this.cut.add(`${b}>${a}`);
  }

  /** Cuts only the direction from `a` to `b`. */
  cutOneWay(a: NodeId, b: NodeId): void {
    this.cut.add(`${a}>${b}`);
  }

  heal(): void {
    this.cut.clear();
  }

  /** Processes every node's Ready and delivers messages until the network is quiet. */
  settle(maxRounds = 10_000): void {
    for (let round = 0; round < maxRounds; round++) {
      let busy = false;
      for (const id of [...this.nodes.keys()]) busy = this.processReady(id) || busy;
      while (this.queue.length > 0) {
        busy = true;
        this.deliver(this.queue.shift() as Message);
        for (const id of [...this.nodes.keys()]) this.processReady(id);
      }
      if (!busy) return;
    }
    throw new Error('network did not settle');
  }

  /** Ticks every running node `n` times, settling after each tick. */
  tick(n = 1, ids: NodeId[] = [...this.nodes.keys()]): void {
    for (let i = 0; i < n; i++) {
      for (const id of ids) this.nodes.get(id)?.tick();
      this.settle();
    }
  }

  /** Ticks until `id` has campaigned and the election is over; for electing a chosen node. */
  elect(id: NodeId): void {
    const node = this.node(id);
    for (let i = 0; i < 1000 && node.status().role !== 'leader'; i++) {
      node.tick();
      this.settle();
    }
    if (node.status().role !== 'leader') throw new Error(`${id} did not become leader`);
  }

  /** Ticks `ids` together until one of them leads (faults elsewhere stay as they are). */
  electAmong(ids: NodeId[], maxTicks = 1000): RaftCore {
    for (let i = 0; i < maxTicks; i++) {
      const leader = ids.map((id) => this.node(id)).find((n) => n.status().role === 'leader');
      if (leader) return leader;
      this.tick(1, ids);
    }
    throw new Error(`none of ${ids.join(', ')} became leader`);
  }

  leader(): RaftCore | undefined {
    return [...this.nodes.values()].find((n) => n.status().role === 'leader');
  }

  processReady(id: NodeId): boolean {
    const node = this.nodes.get(id);
    if (!node || !node.hasReady()) return false;
    const rd = node.ready();
    const stored = this.stored.get(id) as StoredNode;
    if (rd.snapshot) {
      stored.snapshot = rd.snapshot;
      stored.entries = [];
      this.applied.set(id, []);
    }
    if (rd.entries.length > 0) {
      const first = (rd.entries[0] as Entry).index;
      stored.entries = stored.entries.filter((e) => e.index < first).concat(rd.entries);
    }
    if (rd.hardState) stored.hardState = rd.hardState;
    for (const m of rd.messages) this.queue.push(m);
    (this.applied.get(id) as Entry[]).push(...rd.committed);
    (this.readStates.get(id) as ReadState[]).push(...rd.readStates);
    node.advance();
    return true;
  }

  private deliver(m: Message): void {
    const to = this.nodes.get(m.to);
    if (!to || this.cut.has(`${m.from}>${m.to}`) || this.filter(m)) return;
    if (this.traceMessages) this.trace.push(traceLine(m));
    to.step(m);
  }

  /** Normal entries with data applied by `id`, decoded as text. */
  appliedData(id: NodeId): string[] {
    return (this.applied.get(id) ?? [])
      .filter((e) => e.type === 'normal' && e.data.length > 0)
      .map((e) => text(e.data));
  }
}

export const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
export const text = (b: Uint8Array): string => new TextDecoder().decode(b);

function hash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) | 0;
  return h >>> 0;
}

/** One line per message: `a->b append t2 i3/t1 [4/t2 5/t2] c3`. */
export function traceLine(m: Message): string {
  const head = `${m.from}->${m.to} ${m.type} t${m.term}`;
  switch (m.type) {
    case 'append':
      return `${head} i${m.index}/t${m.logTerm} [${m.entries.map((e) => `${e.index}/t${e.term}`).join(' ')}] c${m.commit}`;
    case 'appendResponse':
      return `${head} i${m.index}${m.reject ? ` reject hint ${m.hintIndex}/t${m.hintTerm}` : ''}`;
    case 'heartbeat':
      return `${head} c${m.commit}${m.context ? ` ctx ${m.context}` : ''}`;
    case 'heartbeatResponse':
      return `${head}${m.context ? ` ctx ${m.context}` : ''}`;
    case 'vote':
    case 'preVote':
      return `${head} last ${m.index}/t${m.logTerm}${m.transfer ? ' transfer' : ''}`;
    case 'voteResponse':
    case 'preVoteResponse':
      return `${head}${m.reject ? ' reject' : ' granted'}`;
    case 'snapshot':
      return `${head} snap ${m.meta.index}/t${m.meta.term} ${m.offset}+${m.data.length}/${m.total}`;
    case 'snapshotResponse':
      return `${head} snap ${m.index} received ${m.received}`;
    case 'readIndex':
      return `${head} ctx ${m.context}`;
    case 'readIndexResponse':
      return `${head} ctx ${m.context} i${m.index}`;
    case 'timeoutNow':
      return head;
  }
}
