/**
 * Benchmark `raft`: committed entries per second of the pure RaftCore in a 3-node in-memory
 * cluster. No I/O and no encoding: messages go straight from one core's Ready into another core's
 * step(), "persistence" is an array push. The driver allocates almost nothing of its own (one
 * payload buffer and one batch array shared by every proposal; the core does not copy data), so
 * the figure is the cost of the core itself.
 *
 * Each iteration proposes (one entry, or one batch of 64) and then handles one Ready per node, so
 * replication is pipelined the way the real driver's loop does it. An entry counts once the
 * leader's Ready hands it out as committed.
 */
import { RaftCore } from '../../core/raft/raft.js';
import { seededRng } from '../../core/raft/rng.js';
import type { Entry, HardState, NodeId } from '../../core/raft/types.js';
import { figure, repeat, type BenchOptions, type Figure } from './stats.js';

const BENCH = 'raft';
const IDS: readonly NodeId[] = ['n1', 'n2', 'n3'];
const ENTRY_BYTES = 200;
/** Wall time after which a run stops proposing (and then waits for what it proposed to commit). */
const BUDGET_MS = 2_000;

interface Mode {
  readonly batch: number;
  readonly maxEntries: number;
}

const MODES: readonly Mode[] = [
  { batch: 1, maxEntries: 50_000 },
  { batch: 64, maxEntries: 200_000 },
];
const QUICK_ENTRIES = 512;

interface RunResult {
  readonly entries: number;
  readonly ms: number;
}

/** Three cores wired to each other, driven synchronously. */
class BenchCluster {
  private readonly cores: RaftCore[];
  private readonly byId = new Map<NodeId, RaftCore>();
  /** What each node persisted: its log (entry i at [i - 1]) and hard state. */
  private readonly logs: Entry[][] = IDS.map(() => []);
  private readonly hardStates: (HardState | undefined)[] = IDS.map(() => undefined);
  private leaderAt = -1;
  /** Entries with data the leader has handed out as committed (its no-op does not count). */
  committed = 0;

  constructor(seed: number) {
    const snapshot = {
      meta: { index: 0, term: 0, conf: { voters: [...IDS], learners: [] } },
      data: new Uint8Array(0),
    };
    this.cores = IDS.map((id, i) => new RaftCore({ id, rng: seededRng(seed * 31 + i) }, { snapshot }));
    for (const core of this.cores) this.byId.set(core.id, core);
  }

  get leader(): RaftCore {
    const core = this.cores[this.leaderAt];
    if (!core) throw new Error('no leader elected');
    return core;
  }

  /** Ticks the first node until it has won an election, then commits its no-op. */
  elect(): void {
    const first = this.cores[0] as RaftCore;
    for (let t = 0; t < 1_000 && first.status().role !== 'leader'; t++) {
      first.tick();
      this.drain();
    }
    if (first.status().role !== 'leader') throw new Error('n1 did not become leader');
    this.leaderAt = 0;
    this.drain();
    this.committed = 0;
  }

  /** Persist, send, apply, advance for node `i`'s Ready; false when it had none. */
  private handle(i: number): boolean {
    const core = this.cores[i] as RaftCore;
    if (!core.hasReady()) return false;
    const rd = core.ready();
    if (rd.entries.length > 0) {
      const log = this.logs[i] as Entry[];
      const first = (rd.entries[0] as Entry).index;
      if (first <= log.length) log.length = first - 1;
      for (const e of rd.entries) log.push(e);
    }
    if (rd.hardState) this.hardStates[i] = rd.hardState;
    for (const m of rd.messages) (this.byId.get(m.to) as RaftCore).step(m);
    if (i === this.leaderAt) for (const e of rd.committed) if (e.data.length > 0) this.committed++;
    core.advance();
    return true;
  }

  /** One Ready per node, in order; false when no node had one. */
  round(): boolean {
    let busy = false;
    for (let i = 0; i < this.cores.length; i++) busy = this.handle(i) || busy;
    return busy;
  }

  drain(): void {
    for (let n = 0; n < 1_000_000; n++) if (!this.round()) return;
    throw new Error('the cluster did not go quiet');
  }
}

function measure(batch: number, maxEntries: number, budgetMs: number): RunResult {
  const cluster = new BenchCluster(1);
  cluster.elect();
  const leader = cluster.leader;
  const payload = new Uint8Array(ENTRY_BYTES).fill(0x61);
  const datas: Uint8Array[] = new Array<Uint8Array>(batch).fill(payload);

  let proposed = 0;
  const start = performance.now();
  while (proposed < maxEntries) {
    if (batch === 1) leader.propose(payload);
    else leader.proposeBatch(datas);
    proposed += batch;
    cluster.round();
    // performance.now() is cheap but not free: look at the clock every 64 entries or so.
    if ((proposed & 63) < batch && performance.now() - start > budgetMs) break;
  }
  while (cluster.committed < proposed) {
    if (!cluster.round()) throw new Error(`stalled: ${cluster.committed} of ${proposed} committed`);
  }
  const ms = performance.now() - start;
  if (cluster.committed !== proposed) throw new Error(`${cluster.committed} committed, ${proposed} proposed`);
  return { entries: proposed, ms };
}

export async function runRaft(options: BenchOptions): Promise<Figure[]> {
  const figures: Figure[] = [];
  for (const mode of MODES) {
    const maxEntries = options.quick ? QUICK_ENTRIES : mode.maxEntries;
    const results = await repeat(() => measure(mode.batch, maxEntries, BUDGET_MS), options);
    const entries = results.map((r) => r.entries).sort((a, b) => a - b);
    const context = {
      nodes: IDS.length,
      entryBytes: ENTRY_BYTES,
      batch: mode.batch,
      entries: entries[entries.length >> 1] as number,
    };
    figures.push(
      figure(
        BENCH,
        'commit_throughput',
        'entries/s',
        results.map((r) => (r.entries * 1000) / r.ms),
        context,
      ),
      figure(
        BENCH,
        'commit_time_per_10k',
        'ms',
        results.map((r) => (r.ms * 10_000) / r.entries),
        context,
      ),
    );
  }
  return figures;
}
