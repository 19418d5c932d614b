/** ReadIndex requests waiting for a heartbeat quorum (thesis §6.4). */
import { describe, expect, it } from 'vitest';

import { ReadOnlyQueue, type ReadRequest } from '../../../core/raft/read-only.js';

const summary = (requests: ReadRequest[]): string[] =>
  requests.map((r) => `${r.context}@${r.index} from ${r.from}`);

describe('ReadOnlyQueue', () => {
  it('records each acknowledgement of a waiting request', () => {
    const q = new ReadOnlyQueue();
    q.add('r1', 5, 'a');
    q.ack('r1', 'b');
    expect([...(q.ack('r1', 'c') ?? [])]).toEqual(['b', 'c']);
  });

  it('counts a repeated acknowledgement once', () => {
    const q = new ReadOnlyQueue();
    q.add('r1', 5, 'a');
    q.ack('r1', 'b');
    expect(q.ack('r1', 'b')?.size).toBe(1);
  });

  it('ignores an acknowledgement for a request it does not hold', () => {
    const q = new ReadOnlyQueue();
    q.add('r1', 5, 'a');
    expect(q.ack('r2', 'b')).toBeUndefined();
  });

  it('keeps the first request under a context: a duplicate does not move its read index', () => {
    const q = new ReadOnlyQueue();
    q.add('r1', 5, 'a');
    q.add('r1', 9, 'b');
    expect(summary(q.release('r1'))).toEqual(['r1@5 from a']);
  });

  it('releases a request together with every request queued before it, in order', () => {
    const q = new ReadOnlyQueue();
    q.add('r1', 5, 'a');
    q.add('r2', 6, 'b');
    q.add('r3', 7, 'a');
    expect(summary(q.release('r2'))).toEqual(['r1@5 from a', 'r2@6 from b']);
    expect(q.lastContext()).toBe('r3');
    expect(summary(q.release('r3'))).toEqual(['r3@7 from a']);
  });

  it('forgets released requests: their acknowledgements and release are ignored', () => {
    const q = new ReadOnlyQueue();
    q.add('r1', 5, 'a');
    q.add('r2', 6, 'a');
    q.release('r1');
    expect(q.ack('r1', 'b')).toBeUndefined();
    expect(q.release('r1')).toEqual([]);
    expect(summary(q.release('r2'))).toEqual(['r2@6 from a']);
  });

  it('releases nothing for an unknown context', () => {
    const q = new ReadOnlyQueue();
    q.add('r1', 5, 'a');
    expect(q.release('nope')).toEqual([]);
    expect(q.lastContext()).toBe('r1');
  });

  it('names the newest waiting context for the next heartbeat', () => {
    const q = new ReadOnlyQueue();
    expect(q.lastContext()).toBeUndefined();
    q.add('r1', 5, 'a');
    q.add('r2', 5, 'a');
    expect(q.lastContext()).toBe('r2');
  });

  it('clear drops every waiting request (a leader change loses them)', () => {
    const q = new ReadOnlyQueue();
    q.add('r1', 5, 'a');
    q.add('r2', 6, 'a');
    q.clear();
    expect(q.lastContext()).toBeUndefined();
    expect(q.ack('r1', 'b')).toBeUndefined();
    expect(q.release('r2')).toEqual([]);
  });
});
