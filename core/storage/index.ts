/**
 * `openRaftStorage`: the durable side of one Raft node in `<dir>/raft/` — hard state, snapshots and
 * the write-ahead log — behind the data-directory lock.
 *
 * A batch is persisted in the order the Ready contract gives: snapshot (then the log restarts
 * after it), entries, hard state, with one fdatasync of the log when `mustSync`. The hard-state
 * file is rewritten only when term or vote change; a commit-only change goes into the log as a
 * commit mark that rides the same fdatasync (or stays in memory when the batch need not sync:
 * losing it is harmless, the commit index is learnt again from the leader). Recovery takes the
 * highest commit of the two.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';

import type { Entry, HardState, PersistedState, Snapshot } from '../raft/types.js';
import { IoCounters, isIndex } from './disk.js';
import { loadHardState, saveHardState } from './hard-state.js';
import { lockDataDir, type DirLock } from './lock.js';
import { SnapshotStore } from './snapshot-store.js';
import {
  StorageCorruptionError,
  type PersistBatch,
  type RaftStorage,
  type StorageOptions,
  type StorageStats,
} from './types.js';
import { Wal } from './wal.js';

export * from './types.js';

const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;
const NO_HARD_STATE: HardState = { term: 0, vote: '', commit: 0 };

type Warn = (message: string, details?: Record<string, unknown>) => void;

export async function openRaftStorage(options: StorageOptions): Promise<RaftStorage> {
  const warn: Warn = options.warn ?? (() => {});
  const segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
  if (!Number.isSafeInteger(segmentBytes) || segmentBytes < 1) {
    throw new RangeError(`segmentBytes must be a positive whole number, not ${segmentBytes}`);
  }
  await mkdir(options.dir, { recursive: true, mode: 0o700 });
  const lock = await lockDataDir(options.dir);
  let wal: Wal | undefined;
  try {
    const raftDir = join(options.dir, 'raft');
    await mkdir(raftDir, { recursive: true, mode: 0o700 });
    const io = new IoCounters();
    const storedHardState = await loadHardState(raftDir);
    const { store, snapshot } = await SnapshotStore.open(
      join(raftDir, 'snapshots'),
      io,
      warn,
      options.onSnapshotStep,
    );
    const opened = await Wal.open({ dir: join(raftDir, 'wal'), segmentBytes, io, warn });
    wal = opened.wal;
    const entries = await entriesAfterSnapshot(wal, opened.entries, snapshot, warn);
    await store.setAsideDamaged();

    const lastIndex = entries.at(-1)?.index ?? snapshot?.meta.index ?? 0;
    let hardState = storedHardState;
    const commit = Math.min(Math.max(storedHardState?.commit ?? 0, opened.commit), lastIndex);
    if (hardState || commit > 0) hardState = { ...(hardState ?? NO_HARD_STATE), commit };
    const recovered: PersistedState = {
      ...(hardState ? { hardState } : {}),
      ...(snapshot ? { snapshot } : {}),
      entries,
    };
    return new DiskRaftStorage({ raftDir, io, lock, wal, store, recovered, storedHardState });
  } catch (err) {
    await wal?.close().catch(() => {});
    await lock.release();
    throw err;
  }
}

/**
 * The entries the Raft core restarts with: those after the snapshot, contiguous. A log that does
 * not reach the snapshot, or holds its index with another term, predates a snapshot installed
 * from the leader (a crash came before the log was reset): it is discarded, on disk too, so that a
 * divergent suffix cannot come back.
 */
async function entriesAfterSnapshot(
  wal: Wal,
  entries: Entry[],
  snapshot: Snapshot | undefined,
  warn: Warn,
): Promise<Entry[]> {
  const first = entries[0]?.index;
  const last = entries.at(-1)?.index;
  if (first === undefined || last === undefined) return [];
  const s = snapshot?.meta ?? { index: 0, term: 0 };
  if (first > s.index + 1) {
    const path = wal.firstSegmentPath ?? '';
    const covered = snapshot ? `the snapshot ends at index ${s.index}` : 'there is no snapshot';
    throw new StorageCorruptionError(
      `the log starts at index ${first} but ${covered}: entries ${s.index + 1}..${first - 1} are missing (${path})`,
      path,
      0,
    );
  }
  if (first === s.index + 1) return entries;
  const atSnapshot = last >= s.index ? entries[s.index - first] : undefined;
  if (atSnapshot?.term === s.term) return entries.slice(s.index - first + 1);
  warn('discarding a log that does not match the snapshot it follows', {
    snapshotIndex: s.index,
    snapshotTerm: s.term,
    logFirst: first,
    logLast: last,
    termAtSnapshot: atSnapshot?.term,
  });
  await wal.reset();
  return [];
}

function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

function checkSnapshot(snapshot: Snapshot): void {
  const { meta } = snapshot;
  if (!isIndex(meta.index) || !isIndex(meta.term)) {
    throw new RangeError(`snapshot index and term must be whole numbers (${meta.index}, ${meta.term})`);
  }
  if (!(snapshot.data instanceof Uint8Array)) throw new TypeError('snapshot data must be a Uint8Array');
}

interface Parts {
  readonly raftDir: string;
  readonly io: IoCounters;
  readonly lock: DirLock;
  readonly wal: Wal;
  readonly store: SnapshotStore;
  readonly recovered: PersistedState;
  readonly storedHardState: HardState | undefined;
}

class DiskRaftStorage implements RaftStorage {
  readonly recovered: PersistedState;
  private readonly raftDir: string;
  private readonly io: IoCounters;
  private readonly lock: DirLock;
  private readonly wal: Wal;
  private readonly store: SnapshotStore;
  /** What the hard-state file holds. */
  private fileHardState: HardState;
  /** The newest hard state handed in; its commit may live in the log or only in memory. */
  private hardState: HardState;
  private snapshotIndex: number | undefined;
  /** Operations run one at a time even if a caller overlaps them. */
  private queue: Promise<unknown> = Promise.resolve();
  private failure: unknown;
  private closed = false;

  constructor(parts: Parts) {
    this.raftDir = parts.raftDir;
    this.io = parts.io;
    this.lock = parts.lock;
    this.wal = parts.wal;
    this.store = parts.store;
    this.recovered = parts.recovered;
    this.fileHardState = parts.storedHardState ?? NO_HARD_STATE;
    this.hardState = parts.recovered.hardState ?? NO_HARD_STATE;
    this.snapshotIndex = parts.recovered.snapshot?.meta.index;
  }

  save(batch: PersistBatch): Promise<void> {
    return this.serially(() => this.persist(batch));
  }

  saveSnapshot(snapshot: Snapshot): Promise<void> {
    return this.serially(async () => {
      checkSnapshot(snapshot);
      await this.store.save(snapshot);
      if (this.snapshotIndex === undefined || snapshot.meta.index > this.snapshotIndex) {
        this.snapshotIndex = snapshot.meta.index;
      }
    });
  }

  compact(firstIndex: number): Promise<void> {
    return this.serially(async () => {
      if (!isIndex(firstIndex)) throw new RangeError(`compact needs a whole index, not ${firstIndex}`);
      // Entries after the newest snapshot are the only copy of them: never dropped.
      await this.wal.dropBelow(Math.min(firstIndex, (this.snapshotIndex ?? 0) + 1));
    });
  }

  stats(): StorageStats {
    const snapshotIndex = this.snapshotIndex ?? 0;
    const first = this.wal.firstIndex;
    const last = this.wal.lastIndex;
    const holds = first !== undefined && last !== undefined && last >= first;
    return {
      fsyncs: this.io.fsyncs,
      walSyncs: this.io.walSyncs,
      dirSyncs: this.io.dirSyncs,
      bytesWritten: this.io.bytesWritten,
      segments: this.wal.segmentCount,
      firstIndex: holds ? first : snapshotIndex + 1,
      lastIndex: holds ? Math.max(last, snapshotIndex) : snapshotIndex,
      snapshotIndex,
    };
  }

  close(): Promise<void> {
    return this.serially(async () => {
      this.closed = true;
      try {
        await this.wal.close();
        if (this.failure === undefined && !sameHardState(this.hardState, this.fileHardState)) {
          // A clean shutdown leaves the newest commit in the hard-state file.
          await saveHardState(this.raftDir, this.hardState, this.io);
        }
      } finally {
        await this.lock.release();
      }
    }, true);
  }

  private serially<T>(op: () => Promise<T>, closing = false): Promise<T> {
    const result = this.queue.then(() => this.guarded(op, closing));
    this.queue = result.catch(() => {});
    return result;
  }

  private async guarded<T>(op: () => Promise<T>, closing: boolean): Promise<T> {
    if (this.closed) {
      if (closing) return undefined as T;
      throw new Error('the Raft storage is closed');
    }
    if (this.failure !== undefined && !closing) {
      throw new Error('the Raft storage failed earlier and takes no more writes', { cause: this.failure });
    }
    return op();
  }

  /** The batch makes sense against what is stored; throws before anything is written. */
  private check(batch: PersistBatch): void {
    let snapshotIndex = this.snapshotIndex ?? 0;
    let lastIndex = Math.max(snapshotIndex, this.wal.lastIndex ?? 0);
    if (batch.snapshot) {
      checkSnapshot(batch.snapshot);
      const index = batch.snapshot.meta.index;
      if (this.snapshotIndex !== undefined && index <= this.snapshotIndex) {
        throw new RangeError(`snapshot ${index} is not newer than the stored snapshot ${this.snapshotIndex}`);
      }
      snapshotIndex = index;
      lastIndex = index;
    }
    const first = batch.entries[0];
    batch.entries.forEach((e, i) => {
      if (!isIndex(e.index) || !isIndex(e.term) || !(e.data instanceof Uint8Array)) {
        throw new RangeError(`entry ${i} of the batch is malformed (index ${e.index}, term ${e.term})`);
      }
      if (e.type !== 'normal' && e.type !== 'confChange')
        throw new RangeError(`unknown entry type ${e.type}`);
      if (first && e.index !== first.index + i) {
        throw new RangeError(`batch entries are not contiguous at index ${e.index}`);
      }
      const prev = batch.entries[i - 1];
      if (prev && e.term < prev.term) {
        throw new RangeError(`batch entry ${e.index} has term ${e.term}, below the term before it`);
      }
    });
    if (first && (first.index <= snapshotIndex || first.index > lastIndex + 1)) {
      throw new RangeError(
        `batch entries start at ${first.index}; after snapshot ${snapshotIndex} and a log ending at ${lastIndex} they must start in ${snapshotIndex + 1}..${lastIndex + 1}`,
      );
    }
    const hs = batch.hardState;
    if (hs && (!isIndex(hs.term) || !isIndex(hs.commit) || typeof hs.vote !== 'string')) {
      throw new RangeError('the batch hard state is malformed');
    }
  }

  private async persist(batch: PersistBatch): Promise<void> {
    this.check(batch);
    try {
      if (batch.snapshot) {
        await this.store.save(batch.snapshot);
        this.snapshotIndex = batch.snapshot.meta.index;
        // §7: the snapshot replaces the whole log.
        await this.wal.reset();
      }
      const hs = batch.hardState;
      const termOrVote =
        hs !== undefined && (hs.term !== this.hardState.term || hs.vote !== this.hardState.vote);
      const commitOnly = hs !== undefined && !termOrVote && hs.commit !== this.hardState.commit;
      const logTakesMark = batch.entries.length > 0 || this.wal.segmentCount > 0;
      const commitMark = commitOnly && logTakesMark && (batch.mustSync || batch.entries.length > 0);
      if (batch.entries.length > 0 || commitMark) {
        await this.wal.write(batch.entries, commitMark ? hs?.commit : undefined, batch.mustSync);
      } else if (batch.mustSync) {
        await this.wal.sync();
      }
      if (hs && (termOrVote || (commitOnly && !commitMark && batch.mustSync))) {
        await saveHardState(this.raftDir, hs, this.io);
        this.fileHardState = hs;
      }
      if (hs) this.hardState = hs;
    } catch (err) {
      this.failure ??= err;
      throw err;
    }
  }
}
