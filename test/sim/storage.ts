/**
 * A model of one node's disk. Writes land in order; a sync makes everything written so far
 * durable. A crash keeps what was synced plus a random prefix of the writes since the last sync
 * (all of them, none, or some): the file system may have flushed part of them on its own.
 *
 * Persisting a Ready's entries replaces the stored entries at or after entries[0].index; persisting
 * a Ready's snapshot replaces the whole log (the core discards its log when it installs one).
 * Writes the core could never legitimately ask for (a gap in the log, entries below the snapshot)
 * are reported as a broken Ready contract rather than stored.
 */
import type { Entry, HardState, PersistedState, Snapshot } from '../../core/raft/types.js';
import type { SimRng } from './rng.js';
import { Violation } from './violation.js';

/** A read-only view of a stored log: a snapshot followed by contiguous entries. */
export interface LogView {
  readonly snapshotIndex: number;
  readonly snapshotTerm: number;
  /** The first entry held; entries below the snapshot index may be kept (trailing entries). */
  readonly firstIndex: number;
  /** The last index covered: by an entry, or by the snapshot when no entry follows it. */
  readonly lastIndex: number;
  entry(index: number): Entry | undefined;
  /** The term at `index`: of an entry held, or of the snapshot at exactly its index. */
  term(index: number): number | undefined;
}

type Write =
  | { readonly kind: 'readySnapshot'; readonly snapshot: Snapshot }
  | { readonly kind: 'entries'; readonly entries: readonly Entry[] }
  | { readonly kind: 'hardState'; readonly hardState: HardState }
  | { readonly kind: 'compactionSnapshot'; readonly snapshot: Snapshot }
  | { readonly kind: 'dropBelow'; readonly index: number };

class DiskState implements LogView {
  hardState: HardState | undefined;
  snapshot: Snapshot | undefined;
  /** Contiguous; entries[0] is at `offset`. */
  entries: Entry[] = [];
  offset = 1;

  clone(): DiskState {
    const copy = new DiskState();
    copy.hardState = this.hardState;
    copy.snapshot = this.snapshot;
    copy.entries = this.entries.slice();
    copy.offset = this.offset;
    return copy;
  }

  get snapshotIndex(): number {
    return this.snapshot?.meta.index ?? 0;
  }

  get snapshotTerm(): number {
    return this.snapshot?.meta.term ?? 0;
  }

  get firstIndex(): number {
    return this.entries.length > 0 ? this.offset : this.snapshotIndex + 1;
  }

  get lastIndex(): number {
    return Math.max(this.snapshotIndex, this.offset + this.entries.length - 1);
  }

  entry(index: number): Entry | undefined {
    return this.entries[index - this.offset];
  }

  term(index: number): number | undefined {
    const e = this.entry(index);
    if (e) return e.term;
    return index === this.snapshotIndex ? this.snapshotTerm : undefined;
  }

  apply(w: Write): void {
    switch (w.kind) {
      case 'hardState':
        this.hardState = w.hardState;
        return;
      case 'readySnapshot': {
        const { index, term } = w.snapshot.meta;
        // Entries after the snapshot survive only when the log holds the snapshot's last entry.
        const keep = this.entry(index)?.term === term ? this.entries.slice(index + 1 - this.offset) : [];
        this.snapshot = w.snapshot;
        this.entries = keep;
        this.offset = index + 1;
        return;
      }
      case 'compactionSnapshot':
        if (w.snapshot.meta.index > this.snapshotIndex) this.snapshot = w.snapshot;
        return;
      case 'dropBelow': {
        const n = Math.min(this.entries.length, Math.max(0, w.index - this.offset));
        if (n > 0) {
          this.entries.splice(0, n);
          this.offset += n;
        }
        return;
      }
      case 'entries': {
        const first = (w.entries[0] as Entry).index;
        if (this.entries.length === 0) {
          this.offset = first;
        } else {
          this.entries.length = Math.max(0, first - this.offset);
          if (this.entries.length === 0) this.offset = first;
        }
        for (const e of w.entries) this.entries.push(e);
        return;
      }
    }
  }
}

export interface CrashOutcome {
  readonly kept: number;
  readonly lost: number;
}

export class NodeStorage {
  private synced = new DiskState();
  private current = new DiskState();
  private unsynced: Write[] = [];
  /** Writes ever made: an fsync that starts now covers the writes up to this mark. */
  written = 0;
  /** Bumped by every change to what is stored: lets the checker skip disks that did not change. */
  version = 0;
  /** Bumped by every change to what is durable (a write that syncs, an fsync finishing, a crash). */
  durableVersion = 0;

  /** Everything written, synced or not: what the running node sees. */
  get view(): LogView {
    return this.current;
  }

  /** Only what survives a crash. */
  get durable(): LogView {
    return this.synced;
  }

  get hardState(): HardState | undefined {
    return this.current.hardState;
  }

  get snapshot(): Snapshot | undefined {
    return this.current.snapshot;
  }

  /** A brand new node of a new cluster: the bootstrap state, written and synced before it starts. */
  bootstrap(initial: PersistedState): void {
    const entries = initial.entries ?? [];
    if (initial.snapshot) this.write({ kind: 'readySnapshot', snapshot: initial.snapshot }, false);
    if (entries.length > 0) this.write({ kind: 'entries', entries }, false);
    if (initial.hardState) this.write({ kind: 'hardState', hardState: initial.hardState }, false);
    this.sync();
  }

  /** Persists the durable part of a Ready, in the order the contract gives. */
  persistReady(
    rd: { readonly snapshot?: Snapshot; readonly entries: readonly Entry[]; readonly hardState?: HardState },
    sync: boolean,
  ): void {
    const writes: Write[] = [];
    let lastIndex = this.current.lastIndex;
    let snapshotIndex = this.current.snapshotIndex;
    if (rd.snapshot) {
      if (rd.snapshot.meta.index <= snapshotIndex) {
        throw new Violation(
          'ready-contract',
          `Ready snapshot ${rd.snapshot.meta.index} is not newer than the stored snapshot ${snapshotIndex}`,
        );
      }
      writes.push({ kind: 'readySnapshot', snapshot: rd.snapshot });
      snapshotIndex = rd.snapshot.meta.index;
      lastIndex = Math.max(snapshotIndex, lastIndex);
    }
    if (rd.entries.length > 0) {
      const first = (rd.entries[0] as Entry).index;
      rd.entries.forEach((e, i) => {
        if (e.index !== first + i)
          throw new Violation('ready-contract', `Ready entries are not contiguous at ${e.index}`);
      });
      if (first <= snapshotIndex) {
        throw new Violation(
          'ready-contract',
          `Ready entries start at ${first}, at or below the snapshot ${snapshotIndex}`,
        );
      }
      if (first > lastIndex + 1 && !rd.snapshot) {
        throw new Violation(
          'ready-contract',
          `Ready entries start at ${first}, leaving a gap after ${lastIndex}`,
        );
      }
      writes.push({ kind: 'entries', entries: rd.entries });
    }
    if (rd.hardState) writes.push({ kind: 'hardState', hardState: rd.hardState });
    writes.forEach((w, i) => this.write(w, sync && i === writes.length - 1));
    if (sync && writes.length === 0) this.sync();
  }

  /** Compaction: the state machine's snapshot, written (and by default synced) before the log is cut. */
  saveSnapshot(snapshot: Snapshot, sync = true): void {
    this.write({ kind: 'compactionSnapshot', snapshot }, sync);
  }

  /** Compaction: entries below `index` are no longer needed. Losing this write is harmless. */
  dropEntriesBelow(index: number): void {
    this.write({ kind: 'dropBelow', index }, false);
  }

  sync(): void {
    if (this.unsynced.length === 0) return;
    this.unsynced = [];
    this.synced = this.current.clone();
  }

  /** An fsync that started at `mark` (see `written`) finished: the writes before it are durable. */
  syncThrough(mark: number): void {
    const covered = this.unsynced.length - (this.written - mark);
    if (covered <= 0) return;
    this.durableVersion++;
    if (covered === this.unsynced.length) return this.sync();
    for (const w of this.unsynced.splice(0, covered)) this.synced.apply(w);
  }

  /** The machine lost power: keep what was synced and a random prefix of the rest. */
  crash(rng: SimRng): CrashOutcome {
    const kept = rng.int(this.unsynced.length + 1);
    const lost = this.unsynced.length - kept;
    for (const w of this.unsynced.slice(0, kept)) this.synced.apply(w);
    this.unsynced = [];
    this.current = this.synced.clone();
    this.version++;
    this.durableVersion++;
    return { kept, lost };
  }

  /** What a restarting node reads back. */
  persisted(): PersistedState {
    const s = this.current;
    const from = Math.max(s.offset, s.snapshotIndex + 1);
    return {
      ...(s.hardState ? { hardState: s.hardState } : {}),
      ...(s.snapshot ? { snapshot: s.snapshot } : {}),
      entries: s.entries.slice(from - s.offset),
    };
  }

  private write(w: Write, sync: boolean): void {
    this.version++;
    this.written++;
    this.current.apply(w);
    if (sync) {
      this.unsynced = [];
      this.synced = this.current.clone();
      this.durableVersion++;
    } else {
      this.unsynced.push(w);
    }
  }
}
