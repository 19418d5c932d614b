/**
 * The leader's view of one follower (etcd's tracker.Progress; thesis §3.5 and §4.2.1):
 * - probe: one append at a time until the follower's match is found;
 * - replicate: appends stream optimistically, bounded by the in-flight window;
 * - snapshot: the follower is behind the compaction point and receives the snapshot.
 */
import type { ProgressState } from './types.js';

/** A bounded window of append messages sent and not yet acknowledged, by last index and size. */
export class Inflights {
  private readonly indexes: number[] = [];
  private readonly sizes: number[] = [];
  private bytes = 0;

  constructor(
    private readonly maxMessages: number,
    private readonly maxBytes: number,
  ) {}

  add(lastIndex: number, size: number): void {
    this.indexes.push(lastIndex);
    this.sizes.push(size);
    this.bytes += size;
  }

  /** Frees every message whose last index is at or below `index` (acknowledged). */
  freeUpTo(index: number): void {
    let n = 0;
    while (n < this.indexes.length && (this.indexes[n] as number) <= index) {
      this.bytes -= this.sizes[n] as number;
      n++;
    }
    if (n > 0) {
      this.indexes.splice(0, n);
      this.sizes.splice(0, n);
    }
  }

  /** Frees the oldest message: used when a heartbeat answer shows the follower is alive. */
  freeFirst(): void {
    if (this.indexes.length > 0) this.freeUpTo(this.indexes[0] as number);
  }

  full(): boolean {
    return this.indexes.length >= this.maxMessages || this.bytes >= this.maxBytes;
  }

  get count(): number {
    return this.indexes.length;
  }

  reset(): void {
    this.indexes.length = 0;
    this.sizes.length = 0;
    this.bytes = 0;
  }
}

export class Progress {
  match = 0;
  next: number;
  state: ProgressState = 'probe';
  /** In probe state: an append is outstanding, wait for its answer or the next heartbeat. */
  probeSent = false;
  /** In snapshot state: the index of the snapshot being sent. */
  pendingSnapshot = 0;
  /** The highest commit index sent to the follower: resend only when it moved on. */
  sentCommit = 0;
  /** Heard from since the last check-quorum round. */
  recentActive = false;
  readonly inflights: Inflights;

  constructor(
    next: number,
    public learner: boolean,
    maxInflightMessages: number,
    maxInflightBytes: number,
  ) {
    this.next = next;
    this.inflights = new Inflights(maxInflightMessages, maxInflightBytes);
  }

  becomeProbe(): void {
    // Leaving a snapshot, resume right after it: the follower has (or is about to have) it.
    const next =
      this.state === 'snapshot' ? Math.max(this.match + 1, this.pendingSnapshot + 1) : this.match + 1;
    this.reset('probe');
    this.next = next;
  }

  becomeReplicate(): void {
    this.reset('replicate');
    this.next = this.match + 1;
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.reset('snapshot');
    this.pendingSnapshot = snapshotIndex;
  }

  private reset(state: ProgressState): void {
    this.state = state;
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.inflights.reset();
  }

  /** An append was acknowledged up to `index`; false when the answer is stale. */
  maybeUpdate(index: number): boolean {
    let updated = false;
    if (this.match < index) {
      this.match = index;
      updated = true;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, index + 1);
    return updated;
  }

  /** An append carrying entries up to `last` (none when `bytes` is 0) has been sent. */
  sentAppend(last: number, bytes: number, entryCount: number): void {
    if (this.state === 'replicate' && entryCount > 0) {
      this.next = last + 1;
      this.inflights.add(last, bytes);
    } else if (this.state === 'probe') {
      this.probeSent = true;
    }
  }

  /**
   * The follower rejected an append at `rejected`; `hint` is the leader's best guess of the last
   * index that may match (§5.3 optimisation). False when the rejection is stale.
   */
  maybeDecrTo(rejected: number, hint: number): boolean {
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, hint + 1), this.match + 1);
    this.probeSent = false;
    return true;
  }

  isPaused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.probeSent;
      case 'replicate':
        return this.inflights.full();
      case 'snapshot':
        return true;
    }
  }
}
