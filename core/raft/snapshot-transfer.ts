/**
 * Snapshot transfer in chunks, so that a large snapshot never travels as one message and the
 * sender keeps only a small window of chunks in flight.
 */
import type { NodeId, Snapshot, SnapshotChunkMessage, SnapshotMeta } from './types.js';

/** The leader's side, one per follower in the snapshot state. */
export class SnapshotSender {
  /** Bytes sent so far and bytes acknowledged by the follower. */
  sent = 0;
  acked = 0;
  /** Ticks since the follower last acknowledged a chunk. */
  idleTicks = 0;
  private started = false;
  /** The position last resent on a repeated acknowledgement. */
  private fastResendAt = -1;

  constructor(readonly snapshot: Snapshot) {}

  get index(): number {
    return this.snapshot.meta.index;
  }

  /** The chunks that may be sent now, within `window` chunks of `chunkBytes` past the acked bytes. */
  nextChunks(chunkBytes: number, window: number): { offset: number; data: Uint8Array }[] {
    const total = this.snapshot.data.length;
    const limit = Math.min(total, this.acked + chunkBytes * window);
    const chunks: { offset: number; data: Uint8Array }[] = [];
    // Every transfer sends at least one chunk: an empty snapshot still carries its metadata.
    while (this.sent < limit || (this.sent === 0 && !this.started)) {
      const end = Math.min(total, this.sent + chunkBytes);
      chunks.push({ offset: this.sent, data: this.snapshot.data.subarray(this.sent, end) });
      this.sent = end;
      this.started = true;
    }
    return chunks;
  }

  acknowledge(received: number): void {
    if (received > this.acked) {
      this.acked = received;
      this.idleTicks = 0;
    } else if (received < this.acked) {
      // The follower lost its place (it restarted): resend from what it holds.
      this.acked = received;
      this.sent = received;
      this.started = false;
    } else if (this.sent > this.acked && this.fastResendAt !== received) {
      // The same position again: the follower refused a chunk out of order, so the one it waits
      // for was lost or overtaken. Resend from there at once (once per position), not after an
      // election timeout of silence.
      this.fastResendAt = received;
      this.sent = received;
      this.started = received > 0;
    }
  }

  /** No acknowledgement for a while: assume the chunks in flight were lost. */
  rewind(): void {
    this.sent = this.acked;
    this.started = this.acked > 0;
    this.idleTicks = 0;
  }
}

/** The follower's side: the chunks of one snapshot received in order so far. */
export class SnapshotReceiver {
  private readonly chunks: Uint8Array[] = [];
  received = 0;

  constructor(
    readonly from: NodeId,
    readonly meta: SnapshotMeta,
    readonly total: number,
  ) {}

  matches(m: SnapshotChunkMessage): boolean {
    return (
      m.from === this.from &&
      m.meta.index === this.meta.index &&
      m.meta.term === this.meta.term &&
      m.total === this.total
    );
  }

  /** Takes the chunk if it is the next one; false when it is out of order. */
  accept(m: SnapshotChunkMessage): boolean {
    if (m.offset !== this.received) return false;
    this.chunks.push(m.data);
    this.received += m.data.length;
    return true;
  }

  complete(): boolean {
    return this.received === this.total;
  }

  assemble(): Snapshot {
    const data = new Uint8Array(this.total);
    let at = 0;
    for (const chunk of this.chunks) {
      data.set(chunk, at);
      at += chunk.length;
    }
    return { meta: this.meta, data };
  }
}
