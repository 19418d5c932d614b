/**
 * The durable side of a Raft node: what the replica driver needs from the disk. Implemented by
 * `openRaftStorage` (core/storage/index.ts) over segment files, a hard-state file and a snapshot
 * store, all in one data directory that a lock keeps to one process.
 */
import type { Entry, HardState, PersistedState, Snapshot } from '../raft/types.js';

export interface StorageOptions {
  /** The node's data directory; created if missing. Raft files live in `<dir>/raft/`, the lock in `<dir>/lock/`. */
  readonly dir: string;
  /** Start a new segment file once the current one reaches this size (default 64 MiB). */
  readonly segmentBytes?: number;
  /**
   * Receives warnings: a torn last record cut on open, a damaged snapshot passed over for an older
   * one, a log discarded because it does not match the snapshot it follows. Defaults to silence.
   */
  readonly warn?: (message: string, details?: Record<string, unknown>) => void;
  /**
   * Test-only (MESHDESK_FAULT_INJECTION, core/fault-injection.ts): called at each step of writing
   * a snapshot, so the Jepsen suite can kill the process in the middle of one. Absent in
   * production, where a snapshot is written in one piece as always.
   */
  readonly onSnapshotStep?: (step: SnapshotStep) => void;
}

/**
 * `partly-written`: the temp file holds the header and half the data, not yet synced or renamed.
 * `saved`: the snapshot is durable under its name; older ones and the log are not yet trimmed.
 */
export type SnapshotStep = 'partly-written' | 'saved';

/** One persisted batch: the storage half of a Raft Ready. */
export interface PersistBatch {
  /** A snapshot received from the leader: it replaces the whole log (entries follow it). */
  readonly snapshot?: Snapshot;
  /** Entries to append; any stored entries at or after `entries[0].index` are replaced. */
  readonly entries: readonly Entry[];
  readonly hardState?: HardState;
  /** When true the batch is durable when `save` resolves (one fdatasync for the whole batch). */
  readonly mustSync: boolean;
}

export interface StorageStats {
  /** Every fsync/fdatasync since open: log segments, hard state, snapshots and directories. */
  readonly fsyncs: number;
  /** fdatasyncs of log segments: one per mustSync batch (one more when a batch cuts a suffix). */
  readonly walSyncs: number;
  /** fsyncs of directories (segment created or removed, a file renamed into place). */
  readonly dirSyncs: number;
  readonly bytesWritten: number;
  readonly segments: number;
  /** First entry held by the log (may lie below the snapshot: trailing entries), else snapshot + 1. */
  readonly firstIndex: number;
  /** Last entry held by the log, or the snapshot's index when no entry follows it. */
  readonly lastIndex: number;
  /** Index of the newest snapshot stored (0 when none). */
  readonly snapshotIndex: number;
}

export interface RaftStorage {
  /** What was on disk when the storage opened: hand it to the RaftCore constructor. */
  readonly recovered: PersistedState;
  /** Persists one batch. Calls are serialised by the caller (one at a time). */
  save(batch: PersistBatch): Promise<void>;
  /** Persists a snapshot made locally (atomically; the newest two are kept). */
  saveSnapshot(snapshot: Snapshot): Promise<void>;
  /** Drops whole segments holding only entries below `firstIndex` (after a snapshot). */
  compact(firstIndex: number): Promise<void>;
  stats(): StorageStats;
  /** Closes files and releases the data-directory lock. */
  close(): Promise<void>;
}

/** A failure that must stop the node: damaged data that cannot be repaired without losing commits. */
export class StorageCorruptionError extends Error {
  override readonly name = 'StorageCorruptionError';
  constructor(
    message: string,
    readonly file: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

/** Another process holds the data directory. */
export class DataDirLockedError extends Error {
  override readonly name = 'DataDirLockedError';
  constructor(
    readonly dir: string,
    readonly holderPid: number | undefined,
  ) {
    super(
      `data directory ${dir} is in use by another meshdesk process${holderPid ? ` (pid ${holderPid})` : ''}`,
    );
  }
}
