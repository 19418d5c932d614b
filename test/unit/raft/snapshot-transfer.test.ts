/** Chunked snapshot transfer (thesis §5.3, InstallSnapshot in chunks with a window of them). */
import { describe, expect, it } from 'vitest';

import { SnapshotReceiver, SnapshotSender } from '../../../core/raft/snapshot-transfer.js';
import type { Snapshot, SnapshotChunkMessage, SnapshotMeta } from '../../../core/raft/types.js';

const META: SnapshotMeta = { index: 12, term: 3, conf: { voters: ['a', 'b', 'c'], learners: [] } };

/** A snapshot of `n` bytes 0, 1, 2, ... */
function snapshot(n: number): Snapshot {
  return { meta: META, data: Uint8Array.from({ length: n }, (_, i) => i) };
}

/** The chunks as `offset+length`. */
const spans = (chunks: { offset: number; data: Uint8Array }[]): string[] =>
  chunks.map((c) => `${c.offset}+${c.data.length}`);

function chunk(
  offset: number,
  data: number[],
  over: Partial<SnapshotChunkMessage> = {},
): SnapshotChunkMessage {
  return {
    type: 'snapshot',
    from: 'a',
    to: 'b',
    term: 3,
    meta: META,
    offset,
    total: 10,
    data: Uint8Array.from(data),
    ...over,
  };
}

describe('SnapshotSender', () => {
  it('sends a window of chunks past the acknowledged bytes, the last one short', () => {
    const s = new SnapshotSender(snapshot(10));
    expect(spans(s.nextChunks(3, 2))).toEqual(['0+3', '3+3']);
    expect(s.sent).toBe(6);
  });

  it('sends the right bytes in each chunk', () => {
    const s = new SnapshotSender(snapshot(5));
    expect(s.nextChunks(2, 10).map((c) => [...c.data])).toEqual([[0, 1], [2, 3], [4]]);
  });

  it('sends nothing more while the window is full', () => {
    const s = new SnapshotSender(snapshot(10));
    s.nextChunks(3, 2);
    expect(s.nextChunks(3, 2)).toEqual([]);
  });

  it('an acknowledgement opens the window by the bytes acknowledged', () => {
    const s = new SnapshotSender(snapshot(10));
    s.nextChunks(3, 2);
    s.acknowledge(3);
    expect(spans(s.nextChunks(3, 2))).toEqual(['6+3']);
    s.acknowledge(9);
    expect(spans(s.nextChunks(3, 2))).toEqual(['9+1']);
    s.acknowledge(10);
    expect(s.nextChunks(3, 2)).toEqual([]);
  });

  it('an acknowledgement of new bytes resets the idle count', () => {
    const s = new SnapshotSender(snapshot(10));
    s.nextChunks(3, 2);
    s.idleTicks = 4;
    s.acknowledge(3);
    expect([s.acked, s.idleTicks]).toEqual([3, 0]);
  });

  it('a repeated acknowledgement resends from that position at once, but only once per position', () => {
    const s = new SnapshotSender(snapshot(10));
    s.nextChunks(3, 2);
    s.acknowledge(3);
    s.idleTicks = 4;
    s.acknowledge(3); // the chunk at 3 was lost or overtaken: the follower refused what came next
    expect([s.acked, s.sent, s.idleTicks]).toEqual([3, 3, 4]);
    const data = snapshot(10).data;
    expect(s.nextChunks(3, 2)).toEqual([
      { offset: 3, data: data.subarray(3, 6) },
      { offset: 6, data: data.subarray(6, 9) },
    ]);
    s.acknowledge(3); // a late answer to one of the chunks refused earlier
    expect([s.acked, s.sent]).toEqual([3, 9]);
  });

  it('an acknowledgement below the acknowledged bytes (the follower restarted) resends from there', () => {
    const s = new SnapshotSender(snapshot(10));
    s.nextChunks(3, 2);
    s.acknowledge(6);
    s.nextChunks(3, 2);
    s.acknowledge(0);
    expect([s.acked, s.sent]).toEqual([0, 0]);
    expect(spans(s.nextChunks(3, 2))).toEqual(['0+3', '3+3']);
  });

  it('rewind resends the chunks in flight, from the acknowledged bytes', () => {
    const s = new SnapshotSender(snapshot(10));
    s.nextChunks(3, 2);
    s.acknowledge(3);
    s.nextChunks(3, 2);
    s.idleTicks = 7;
    s.rewind();
    expect([s.sent, s.idleTicks]).toEqual([3, 0]);
    expect(spans(s.nextChunks(3, 2))).toEqual(['3+3', '6+3']);
  });

  it('rewind with nothing acknowledged resends from the start', () => {
    const s = new SnapshotSender(snapshot(10));
    s.nextChunks(4, 1);
    s.rewind();
    expect(spans(s.nextChunks(4, 1))).toEqual(['0+4']);
  });

  it('an empty snapshot still sends one (empty) chunk carrying its metadata, once', () => {
    const s = new SnapshotSender(snapshot(0));
    expect(spans(s.nextChunks(3, 2))).toEqual(['0+0']);
    expect(s.nextChunks(3, 2)).toEqual([]);
  });

  it('an empty snapshot sends its chunk again after a rewind', () => {
    const s = new SnapshotSender(snapshot(0));
    s.nextChunks(3, 2);
    s.rewind();
    expect(spans(s.nextChunks(3, 2))).toEqual(['0+0']);
  });

  it('names the snapshot index it sends', () => {
    expect(new SnapshotSender(snapshot(1)).index).toBe(12);
  });
});

describe('SnapshotReceiver', () => {
  it('assembles chunks received in order', () => {
    const r = new SnapshotReceiver('a', META, 10);
    expect(r.accept(chunk(0, [0, 1, 2]))).toBe(true);
    expect(r.accept(chunk(3, [3, 4, 5]))).toBe(true);
    expect(r.complete()).toBe(false);
    expect(r.accept(chunk(6, [6, 7, 8, 9]))).toBe(true);
    expect([r.received, r.complete()]).toEqual([10, true]);
    const s = r.assemble();
    expect(s.meta).toEqual(META);
    expect([...s.data]).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('refuses a chunk past a gap', () => {
    const r = new SnapshotReceiver('a', META, 10);
    r.accept(chunk(0, [0, 1, 2]));
    expect(r.accept(chunk(6, [6, 7, 8]))).toBe(false);
    expect(r.received).toBe(3);
  });

  it('refuses a chunk it already holds (a duplicate)', () => {
    const r = new SnapshotReceiver('a', META, 10);
    r.accept(chunk(0, [0, 1, 2]));
    r.accept(chunk(3, [3, 4, 5]));
    expect(r.accept(chunk(3, [3, 4, 5]))).toBe(false);
    expect(r.received).toBe(6);
    r.accept(chunk(6, [6, 7, 8, 9]));
    expect([...r.assemble().data]).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('is complete at once for an empty snapshot', () => {
    const r = new SnapshotReceiver('a', META, 0);
    expect(r.accept(chunk(0, [], { total: 0 }))).toBe(true);
    expect(r.complete()).toBe(true);
    expect(r.assemble()).toEqual({ meta: META, data: new Uint8Array(0) });
  });

  it('matches only chunks of the same snapshot from the same leader', () => {
    const r = new SnapshotReceiver('a', META, 10);
    expect(r.matches(chunk(3, [3]))).toBe(true);
    expect(r.matches(chunk(3, [3], { from: 'c' }))).toBe(false);
    expect(r.matches(chunk(3, [3], { meta: { ...META, index: 13 } }))).toBe(false);
    expect(r.matches(chunk(3, [3], { meta: { ...META, term: 4 } }))).toBe(false);
    expect(r.matches(chunk(3, [3], { total: 11 }))).toBe(false);
  });
});
