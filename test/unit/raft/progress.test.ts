/**
 * The leader's view of a follower (thesis §3.5, §4.2.1 flow control; etcd's tracker.Progress):
 * the in-flight window and the probe / replicate / snapshot states.
 */
import { describe, expect, it } from 'vitest';

import { Inflights, Progress } from '../../../core/raft/progress.js';

describe('Inflights', () => {
  it('is full once it holds the maximum number of messages', () => {
    const inf = new Inflights(3, 1 << 20);
    inf.add(1, 10);
    inf.add(2, 10);
    expect(inf.full()).toBe(false);
    inf.add(3, 10);
    expect(inf.full()).toBe(true);
    expect(inf.count).toBe(3);
  });

  it('is full once it holds the maximum number of bytes, whatever the count', () => {
    const inf = new Inflights(100, 100);
    inf.add(1, 60);
    expect(inf.full()).toBe(false);
    inf.add(2, 40);
    expect(inf.full()).toBe(true);
    expect(inf.count).toBe(2);
  });

  it('frees every message whose last index is at or below the acknowledged index', () => {
    const inf = new Inflights(3, 1 << 20);
    inf.add(2, 10);
    inf.add(4, 10);
    inf.add(6, 10);
    inf.freeUpTo(5);
    expect(inf.count).toBe(1);
    expect(inf.full()).toBe(false);
    inf.freeUpTo(6);
    expect(inf.count).toBe(0);
  });

  it('frees nothing for an acknowledgement below the oldest message', () => {
    const inf = new Inflights(2, 1 << 20);
    inf.add(5, 10);
    inf.add(8, 10);
    inf.freeUpTo(4);
    expect(inf.count).toBe(2);
    expect(inf.full()).toBe(true);
  });

  it('gives back the bytes of the freed messages', () => {
    const inf = new Inflights(100, 100);
    inf.add(1, 70);
    inf.add(2, 30);
    expect(inf.full()).toBe(true);
    inf.freeUpTo(1);
    expect(inf.full()).toBe(false);
    inf.add(3, 69);
    expect(inf.full()).toBe(false);
    inf.add(4, 1);
    expect(inf.full()).toBe(true);
  });

  it('freeFirst frees exactly the oldest message', () => {
    const inf = new Inflights(2, 100);
    inf.add(3, 50);
    inf.add(7, 50);
    inf.freeFirst();
    expect(inf.count).toBe(1);
    expect(inf.full()).toBe(false);
    inf.add(9, 49);
    expect(inf.full()).toBe(true);
    inf.freeUpTo(7);
    expect(inf.count).toBe(1);
  });

  it('freeFirst on an empty window does nothing', () => {
    const inf = new Inflights(2, 100);
    inf.freeFirst();
    expect(inf.count).toBe(0);
    expect(inf.full()).toBe(false);
  });

  it('reset empties the window, messages and bytes', () => {
    const inf = new Inflights(100, 100);
    inf.add(1, 100);
    inf.reset();
    expect(inf.count).toBe(0);
    expect(inf.full()).toBe(false);
  });
});

function progress(next: number, match = 0, maxMessages = 2, maxBytes = 1 << 20): Progress {
  const pr = new Progress(next, false, maxMessages, maxBytes);
  pr.match = match;
  return pr;
}

describe('Progress state transitions', () => {
  it('starts in probe with nothing matched, at the given next index', () => {
    const pr = new Progress(7, true, 4, 100);
    expect([pr.state, pr.match, pr.next, pr.probeSent, pr.learner]).toEqual(['probe', 0, 7, false, true]);
  });

  it('probe → replicate streams from right after the match, with an empty window', () => {
    const pr = progress(9, 4);
    pr.probeSent = true;
    pr.becomeReplicate();
    expect([pr.state, pr.next, pr.probeSent]).toEqual(['replicate', 5, false]);
    expect(pr.inflights.count).toBe(0);
  });

  it('replicate → probe resumes right after the match and forgets the window', () => {
    const pr = progress(5, 4);
    pr.becomeReplicate();
    pr.sentAppend(6, 10, 2);
    pr.sentAppend(8, 10, 2);
    expect(pr.next).toBe(9);
    pr.becomeProbe();
    expect([pr.state, pr.next, pr.probeSent]).toEqual(['probe', 5, false]);
    expect(pr.inflights.count).toBe(0);
  });

  it('→ snapshot records the snapshot index and pauses appends', () => {
    const pr = progress(5, 4);
    pr.becomeSnapshot(20);
    expect([pr.state, pr.pendingSnapshot, pr.isPaused()]).toEqual(['snapshot', 20, true]);
  });

  it('snapshot → probe resumes right after the snapshot sent', () => {
    const pr = progress(5, 4);
    pr.becomeSnapshot(20);
    pr.becomeProbe();
    expect([pr.state, pr.next, pr.pendingSnapshot]).toEqual(['probe', 21, 0]);
  });

  it('snapshot → probe resumes after the match when the follower got past the snapshot', () => {
    const pr = progress(5, 4);
    pr.becomeSnapshot(20);
    pr.match = 25;
    pr.becomeProbe();
    expect(pr.next).toBe(26);
  });

  it('snapshot → replicate once the snapshot is acknowledged', () => {
    const pr = progress(5, 4);
    pr.becomeSnapshot(20);
    expect(pr.maybeUpdate(20)).toBe(true);
    pr.becomeReplicate();
    expect([pr.state, pr.match, pr.next, pr.pendingSnapshot]).toEqual(['replicate', 20, 21, 0]);
  });
});

describe('Progress.maybeUpdate', () => {
  it('raises match and next on a newer acknowledgement and unpauses a probe', () => {
    const pr = progress(5, 2);
    pr.sentAppend(4, 0, 0);
    expect(pr.isPaused()).toBe(true);
    expect(pr.maybeUpdate(6)).toBe(true);
    expect([pr.match, pr.next, pr.probeSent]).toEqual([6, 7, false]);
  });

  it('is false for a stale acknowledgement and leaves match alone', () => {
    const pr = progress(8, 5);
    expect(pr.maybeUpdate(5)).toBe(false);
    expect(pr.maybeUpdate(3)).toBe(false);
    expect([pr.match, pr.next]).toEqual([5, 8]);
  });

  it('never moves next backwards (appends beyond the acknowledgement are in flight)', () => {
    const pr = progress(5, 4);
    pr.becomeReplicate();
    pr.sentAppend(10, 10, 6);
    expect(pr.maybeUpdate(7)).toBe(true);
    expect([pr.match, pr.next]).toEqual([7, 11]);
  });
});

describe('Progress.sentAppend', () => {
  it('in replicate, moves next past the sent entries and fills the window', () => {
    const pr = progress(5, 4, 2);
    pr.becomeReplicate();
    pr.sentAppend(6, 10, 2);
    expect([pr.next, pr.inflights.count, pr.isPaused()]).toEqual([7, 1, false]);
    pr.sentAppend(7, 10, 1);
    expect([pr.next, pr.inflights.count, pr.isPaused()]).toEqual([8, 2, true]);
  });

  it('in replicate, an empty append (a commit update) takes no window slot', () => {
    const pr = progress(5, 4, 1);
    pr.becomeReplicate();
    pr.sentAppend(4, 0, 0);
    expect([pr.next, pr.inflights.count, pr.isPaused()]).toEqual([5, 0, false]);
  });

  it('in probe, pauses until the answer (one append at a time) without moving next', () => {
    const pr = progress(5, 0);
    pr.sentAppend(8, 30, 3);
    expect([pr.next, pr.probeSent, pr.isPaused()]).toEqual([5, true, true]);
  });
});

describe('Progress.maybeDecrTo (§3.5: decrement nextIndex and retry)', () => {
  it('in replicate, falls back to right after the match', () => {
    const pr = progress(5, 4);
    pr.becomeReplicate();
    pr.sentAppend(9, 50, 5);
    expect(pr.maybeDecrTo(7, 6)).toBe(true);
    expect(pr.next).toBe(5);
  });

  it('in replicate, ignores a rejection at or below the match (stale)', () => {
    const pr = progress(5, 4);
    pr.becomeReplicate();
    pr.sentAppend(9, 50, 5);
    expect(pr.maybeDecrTo(4, 0)).toBe(false);
    expect(pr.maybeDecrTo(2, 0)).toBe(false);
    expect(pr.next).toBe(10);
  });

  it('in probe, moves next to just after the follower’s hint and unpauses', () => {
    const pr = progress(10, 0);
    pr.sentAppend(9, 0, 0);
    expect(pr.maybeDecrTo(9, 5)).toBe(true);
    expect([pr.next, pr.probeSent]).toEqual([6, false]);
  });

  it('in probe, never moves next up for a hint past the rejected index', () => {
    const pr = progress(10, 0);
    expect(pr.maybeDecrTo(9, 20)).toBe(true);
    expect(pr.next).toBe(9);
  });

  it('in probe, never moves next to or below the match', () => {
    const pr = progress(10, 3);
    expect(pr.maybeDecrTo(9, 1)).toBe(true);
    expect(pr.next).toBe(4);
  });

  it('in probe, ignores a rejection of an append other than the last one sent (stale)', () => {
    const pr = progress(10, 0);
    pr.sentAppend(9, 0, 0);
    expect(pr.maybeDecrTo(7, 2)).toBe(false);
    expect([pr.next, pr.probeSent]).toEqual([10, true]);
  });
});

describe('Progress.isPaused', () => {
  it('in probe: only while an append is outstanding', () => {
    const pr = progress(5, 0);
    expect(pr.isPaused()).toBe(false);
    pr.probeSent = true;
    expect(pr.isPaused()).toBe(true);
  });

  it('in replicate: only while the window is full', () => {
    const pr = progress(5, 4, 1);
    pr.becomeReplicate();
    expect(pr.isPaused()).toBe(false);
    pr.sentAppend(5, 10, 1);
    expect(pr.isPaused()).toBe(true);
    pr.inflights.freeUpTo(5);
    expect(pr.isPaused()).toBe(false);
  });

  it('in replicate: while the window holds its byte budget', () => {
    const pr = progress(5, 4, 100, 64);
    pr.becomeReplicate();
    pr.sentAppend(5, 40, 1);
    expect(pr.isPaused()).toBe(false);
    pr.sentAppend(6, 24, 1);
    expect(pr.isPaused()).toBe(true);
  });

  it('in snapshot: always', () => {
    const pr = progress(5, 4);
    pr.becomeSnapshot(9);
    pr.probeSent = false;
    expect(pr.isPaused()).toBe(true);
  });
});
