/**
 * The Replica's storage in the simulator: the disk model of storage.ts behind the interface the
 * Replica uses in production (`ReplicaStorage`). A write lands at once but is durable only when
 * its fsync finishes, a few virtual milliseconds later; a crash in between keeps a random prefix
 * of the unsynced writes. Meanwhile the Replica goes on: this is what lets the simulator see the
 * leader's early sends and applies of durable entries while the next batch syncs.
 */
import type { PersistedState, Snapshot } from '../../core/raft/types.js';
import type { ReplicaStorage } from '../../core/replication/replica.js';
import type { PersistBatch } from '../../core/storage/types.js';
import type { NodeClock } from './clock.js';
import type { InvariantChecker } from './invariants.js';
import type { SimRng } from './rng.js';
import { KvStateMachine } from './state-machine.js';
import type { NodeStorage } from './storage.js';
import type { Trace } from './trace.js';
import { Violation } from './violation.js';

export interface DiskCounters {
  fsyncs: number;
  compactions: number;
}

export class SimDisk implements ReplicaStorage {
  readonly recovered: PersistedState;
  /** Fsyncs started and not finished yet. */
  syncing = 0;
  private fsyncs = 0;

  constructor(
    private readonly id: string,
    private readonly storage: NodeStorage,
    private readonly clock: NodeClock,
    private readonly rng: SimRng,
    private readonly checker: InvariantChecker,
    private readonly counters: DiskCounters,
    private readonly trace: Trace,
    /** A broken invariant seen when an fsync finishes (the run fails with it). */
    private readonly fail: (err: unknown) => void,
  ) {
    this.recovered = storage.persisted();
  }

  save(batch: PersistBatch): Promise<void> {
    const prev = this.storage.hardState ?? { term: 0, vote: '', commit: 0 };
    const hs = batch.hardState;
    const needSync =
      batch.entries.length > 0 ||
      batch.snapshot !== undefined ||
      (hs !== undefined && (hs.term !== prev.term || hs.vote !== prev.vote));
    if (needSync && !batch.mustSync) {
      throw new Violation(
        'ready-contract',
        `${this.id}: a batch with entries, a snapshot or a new term/vote is saved without mustSync`,
      );
    }
    this.storage.persistReady(batch, false);
    if (!batch.mustSync) {
      if (hs) this.checker.observeHardState(this.id, hs);
      return Promise.resolve();
    }
    // A term or vote counts once durable: a crash before then loses it, and the node never acted on it.
    return this.fsync(() => {
      if (hs) this.checker.observeHardState(this.id, hs);
    });
  }

  saveSnapshot(snapshot: Snapshot): Promise<void> {
    const body = KvStateMachine.describe(snapshot.data);
    if (body.index !== snapshot.meta.index) {
      throw new Violation(
        'snapshot',
        `${this.id} saves snapshot ${snapshot.meta.index} holding the state at ${body.index}`,
      );
    }
    this.checker.checkSnapshotMeta(this.id, snapshot.meta, body.digest);
    this.storage.saveSnapshot(snapshot, false);
    this.trace.add(
      this.clock.now(),
      `${this.id} saves snapshot ${snapshot.meta.index}/${snapshot.meta.term} (${snapshot.data.length} bytes)`,
    );
    return this.fsync();
  }

  compact(firstIndex: number): Promise<void> {
    const snapshotIndex = this.storage.durable.snapshotIndex;
    if (firstIndex > snapshotIndex + 1) {
      throw new Violation(
        'compaction',
        `${this.id} drops entries below ${firstIndex}, but its durable snapshot is at ${snapshotIndex}`,
      );
    }
    this.storage.dropEntriesBelow(firstIndex);
    this.counters.compactions++;
    this.trace.add(this.clock.now(), `${this.id} compacts: keeps entries from ${firstIndex}`);
    return Promise.resolve();
  }

  stats(): { fsyncs: number } {
    return { fsyncs: this.fsyncs };
  }

  /** An fsync of everything written so far; mostly quick, sometimes slow. */
  private fsync(done?: () => void): Promise<void> {
    const mark = this.storage.written;
    const latency = this.rng.chance(0.1) ? this.rng.between(10, 60) : this.rng.between(1, 10);
    this.fsyncs++;
    this.counters.fsyncs++;
    this.syncing++;
    return new Promise((resolve) => {
      this.clock.after(latency, () => {
        this.syncing--;
        this.storage.syncThrough(mark);
        try {
          done?.();
        } catch (err) {
          this.fail(err);
        }
        resolve();
      });
    });
  }
}
