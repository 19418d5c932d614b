/**
 * The in-memory Raft log: entries after the compaction point, which of them are durable
 * (`stable`), committed and applied, and the snapshot the log starts from (thesis §5.3, §5.4, §5.7).
 *
 *   compacted | entries[0] ...  stable | unstable ... last
 *   first-1 = `prevIndex` with term `prevTerm` (may be below the snapshot index: trailing entries)
 */
import type { Entry, Snapshot } from './types.js';

const ENTRY_OVERHEAD = 32;

export function entrySize(entry: Entry): number {
  return entry.data.length + ENTRY_OVERHEAD;
}

export class RaftLog {
  private entries: Entry[] = [];
  /** Index and term of the entry just before entries[0]. */
  private prevIndex: number;
  private prevTerm: number;
  /** The newest snapshot: sent to followers behind the compaction point. */
  snapshot: Snapshot;
  /** A snapshot received from the leader and not yet handed to the driver. */
  pendingSnapshot: Snapshot | undefined;
  /** The last index the driver has persisted. */
  stable: number;
  committed: number;
  applied: number;

  constructor(snapshot: Snapshot, entries: readonly Entry[], committed: number) {
    this.snapshot = snapshot;
    this.prevIndex = snapshot.meta.index;
    this.prevTerm = snapshot.meta.term;
    for (const entry of entries) {
      if (entry.index <= this.prevIndex) continue;
      if (entry.index !== this.lastIndex() + 1) {
        throw new Error(`log is not contiguous: entry ${entry.index} follows ${this.lastIndex()}`);
      }
      this.entries.push(entry);
    }
    this.stable = this.lastIndex();
    this.applied = snapshot.meta.index;
    // A commit index persisted before a crash can exceed what survived only if storage lost
    // synced entries, which storage refuses to hide; clamp defensively.
    this.committed = Math.max(this.applied, Math.min(committed, this.lastIndex()));
  }

  firstIndex(): number {
    return this.prevIndex + 1;
  }

  lastIndex(): number {
    return this.prevIndex + this.entries.length;
  }

  lastTerm(): number {
    return this.term(this.lastIndex()) ?? 0;
  }

  /** The term of the entry at `index`; undefined when compacted away or not yet written. */
  term(index: number): number | undefined {
    if (index === this.prevIndex) return this.prevTerm;
    if (index < this.prevIndex || index > this.lastIndex()) return undefined;
    return (this.entries[index - this.prevIndex - 1] as Entry).term;
  }

  entry(index: number): Entry | undefined {
    if (index <= this.prevIndex || index > this.lastIndex()) return undefined;
    return this.entries[index - this.prevIndex - 1];
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  /** §5.4.1: is a log ending at (index, term) at least as up-to-date as ours? */
  isUpToDate(index: number, term: number): boolean {
    const lastTerm = this.lastTerm();
    return term > lastTerm || (term === lastTerm && index >= this.lastIndex());
  }

  /**
   * Entries from `lo` on, at most `maxBytes` of them (always at least one when any exists).
   * Undefined when `lo` has been compacted away.
   */
  slice(lo: number, hi: number, maxBytes: number): Entry[] | undefined {
    if (lo <= this.prevIndex) return undefined;
    const out: Entry[] = [];
    let bytes = 0;
    for (let i = lo; i <= Math.min(hi, this.lastIndex()); i++) {
      const entry = this.entries[i - this.prevIndex - 1] as Entry;
      bytes += entrySize(entry);
      if (out.length > 0 && bytes > maxBytes) break;
      out.push(entry);
    }
    return out;
  }

  unstableEntries(): Entry[] {
    return this.entries.slice(this.stable - this.prevIndex);
  }

  /** The leader appends its own entries. */
  append(entries: readonly Entry[]): void {
    for (const entry of entries) this.entries.push(entry);
  }

  /**
   * The follower's side of AppendEntries (§5.3): if our log holds (index, term), add `entries`,
   * replacing a conflicting suffix, and advance the commit index. Returns the last index now known
   * to match the leader, or undefined when (index, term) does not match.
   */
  maybeAppend(index: number, term: number, commit: number, entries: readonly Entry[]): number | undefined {
    if (!this.matchTerm(index, term)) return undefined;
    const lastNew = index + entries.length;
    const conflict = this.findConflict(entries);
    if (conflict !== 0) {
      if (conflict <= this.committed) {
        throw new Error(`entry ${conflict} conflicts with committed entry (committed ${this.committed})`);
      }
      this.truncateAndAppend(entries.slice(conflict - (index + 1)));
    }
    this.commitTo(Math.min(commit, lastNew));
    return lastNew;
  }

  /** The first entry that is not already in our log with the same term, or 0 when all are. */
  private findConflict(entries: readonly Entry[]): number {
    for (const entry of entries) {
      if (!this.matchTerm(entry.index, entry.term)) return entry.index;
    }
    return 0;
  }

  private truncateAndAppend(entries: readonly Entry[]): void {
    const first = (entries[0] as Entry).index;
    this.entries.length = first - this.prevIndex - 1;
    this.stable = Math.min(this.stable, first - 1);
    this.append(entries);
  }

  /**
   * For a rejection hint: the largest index at or below `index` whose term is at or below `term`.
   * Everything between it and `index` cannot match the leader's entries of term `term`.
   */
  findConflictByTerm(index: number, term: number): number {
    for (let i = Math.min(index, this.lastIndex()); i > this.prevIndex; i--) {
      if ((this.term(i) as number) <= term) return i;
    }
    return this.prevIndex;
  }

  commitTo(index: number): boolean {
    if (index <= this.committed) return false;
    if (index > this.lastIndex())
      throw new Error(`commit ${index} is beyond the last index ${this.lastIndex()}`);
    this.committed = index;
    return true;
  }

  /** Entries persisted by the driver up to (index, term), unless they were replaced meanwhile. */
  stableTo(index: number, term: number): void {
    if (index > this.stable && this.matchTerm(index, term)) this.stable = index;
  }

  /** Committed entries not yet applied, up to `maxBytes` (at least one). */
  nextCommitted(maxBytes: number): Entry[] {
    const lo = Math.max(this.applied, this.prevIndex) + 1;
    if (lo > this.committed) return [];
    return this.slice(lo, this.committed, maxBytes) ?? [];
  }

  /**
   * Drops entries up to `snapshot.meta.index - trailing` (kept entries let a slightly lagging
   * follower catch up without a snapshot). Returns the first index still held.
   */
  compact(snapshot: Snapshot, trailing: number): number {
    this.snapshot = snapshot;
    const upTo = Math.max(this.prevIndex, snapshot.meta.index - trailing);
    if (upTo > this.prevIndex) {
      this.prevTerm = this.term(upTo) as number;
      this.entries.splice(0, upTo - this.prevIndex);
      this.prevIndex = upTo;
    }
    return this.firstIndex();
  }

  /** Replaces the whole log by a snapshot received from the leader (§7: discard the entire log). */
  restore(snapshot: Snapshot): void {
    this.snapshot = snapshot;
    this.pendingSnapshot = snapshot;
    this.entries = [];
    this.prevIndex = snapshot.meta.index;
    this.prevTerm = snapshot.meta.term;
    this.committed = snapshot.meta.index;
    this.stable = snapshot.meta.index;
  }
}
