/**
 * Callers waiting on the log (core/replication/pending.ts): a write settles only if the entry that
 * applied at its index is its own (same term), and a deadline fails it with the outcome the caller
 * may assume. Deadlines are swept every 50 ms by one timer, so they run under fake timers here.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ReplicaError } from '../../../core/replication/errors.js';
import { IndexWaiters, PendingProposals } from '../../../core/replication/pending.js';

/** How a promise has ended so far, read without awaiting it (so a pending one stays pending). */
interface Tracked {
  state: 'pending' | 'resolved' | 'rejected';
  value?: unknown;
  error?: unknown;
}

function track(p: Promise<unknown>): Tracked {
  const t: Tracked = { state: 'pending' };
  p.then(
    (value) => Object.assign(t, { state: 'resolved', value }),
    (error: unknown) => Object.assign(t, { state: 'rejected', error }),
  );
  return t;
}

/** Lets the handlers of promises already settled run. */
const settleCallbacks = () => vi.advanceTimersByTimeAsync(0);

function expectReplicaError(t: Tracked, code: string, outcome: string): void {
  expect(t.state).toBe('rejected');
  expect(t.error).toBeInstanceOf(ReplicaError);
  expect(t.error).toMatchObject({ code, outcome });
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('PendingProposals', () => {
  it('resolves a write with its result when its entry applies in the term it was proposed in', async () => {
    const pending = new PendingProposals();
    const write = track(pending.wait(7, 3, 1_000));
    expect(pending.size).toBe(1);
    pending.settle(7, 3, { ok: true, id: 'i1' });
    await settleCallbacks();
    expect(write).toEqual({ state: 'resolved', value: { ok: true, id: 'i1' } });
    expect(pending.size).toBe(0);
  });

  it('fails a write as PROPOSAL_DROPPED, not applied, when another term’s entry applied at its index', async () => {
    const pending = new PendingProposals();
    const write = track(pending.wait(7, 3, 1_000));
    pending.settle(7, 4, { ok: true, id: 'someone-else' });
    await settleCallbacks();
    expectReplicaError(write, 'PROPOSAL_DROPPED', 'not-applied');
    expect(pending.size).toBe(0);
  });

  it('leaves other writes waiting when an entry nobody waits on applies', async () => {
    const pending = new PendingProposals();
    const write = track(pending.wait(7, 3, 1_000));
    pending.settle(6, 3, 'not ours');
    await settleCallbacks();
    expect(write.state).toBe('pending');
    expect(pending.size).toBe(1);
  });

  it('fails the older write at an index another proposal now waits on, and settles the newer one', async () => {
    const pending = new PendingProposals();
    const older = track(pending.wait(7, 3, 1_000));
    const newer = track(pending.wait(7, 4, 1_000));
    await settleCallbacks();
    expectReplicaError(older, 'PROPOSAL_DROPPED', 'not-applied');
    expect(newer.state).toBe('pending');
    expect(pending.size).toBe(1);
    pending.settle(7, 4, 'applied');
    await settleCallbacks();
    expect(newer).toEqual({ state: 'resolved', value: 'applied' });
  });

  it('settleThrough fails every write at or below the index with the error given, and only those', async () => {
    const pending = new PendingProposals();
    const [five, six, seven] = [5, 6, 7].map((i) => track(pending.wait(i, 2, 1_000)));
    const replaced = new ReplicaError('OUTCOME_UNKNOWN', 'a snapshot replaced the log', 'unknown');
    pending.settleThrough(6, () => {
      throw replaced;
    });
    await settleCallbacks();
    expect(five).toEqual({ state: 'rejected', error: replaced });
    expect(six).toEqual({ state: 'rejected', error: replaced });
    expect(seven?.state).toBe('pending');
    expect(pending.size).toBe(1);
  });

  it('rejectAll fails every write with the error given and stops the sweeping timer', async () => {
    const pending = new PendingProposals();
    const writes = [1, 2].map((i) => track(pending.wait(i, 1, 1_000)));
    expect(vi.getTimerCount()).toBe(1);
    const stopped = new ReplicaError('STOPPED', 'the node is shutting down', 'unknown');
    pending.rejectAll(stopped);
    await settleCallbacks();
    expect(writes).toEqual([
      { state: 'rejected', error: stopped },
      { state: 'rejected', error: stopped },
    ]);
    expect(pending.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('fails a write past its deadline as TIMEOUT with an unknown outcome, and only that write', async () => {
    const pending = new PendingProposals();
    const soon = track(pending.wait(1, 1, 100));
    const later = track(pending.wait(2, 1, 300));
    await vi.advanceTimersByTimeAsync(99);
    expect([soon.state, later.state]).toEqual(['pending', 'pending']);
    // The sweep at 100 ms finds the first deadline reached.
    await vi.advanceTimersByTimeAsync(1);
    expectReplicaError(soon, 'TIMEOUT', 'unknown');
    expect(later.state).toBe('pending');
    expect(pending.size).toBe(1);
    await vi.advanceTimersByTimeAsync(200);
    expectReplicaError(later, 'TIMEOUT', 'unknown');
    // Nothing left to sweep: the timer stops.
    expect(vi.getTimerCount()).toBe(0);
  });

  it('does not time out a write that applied before its deadline', async () => {
    const pending = new PendingProposals();
    const write = track(pending.wait(1, 1, 100));
    pending.settle(1, 1, 'done');
    await vi.advanceTimersByTimeAsync(500);
    expect(write).toEqual({ state: 'resolved', value: 'done' });
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('IndexWaiters', () => {
  it('releases the readers waiting at or below the applied index, and only those', async () => {
    const waiters = new IndexWaiters();
    const [four, fiveA, fiveB, six] = [4, 5, 5, 6].map((i) => track(waiters.wait(i, 1_000)));
    waiters.release(3);
    await settleCallbacks();
    expect([four, fiveA, fiveB, six].map((w) => w?.state)).toEqual([
      'pending',
      'pending',
      'pending',
      'pending',
    ]);
    waiters.release(5);
    await settleCallbacks();
    expect([four, fiveA, fiveB, six].map((w) => w?.state)).toEqual([
      'resolved',
      'resolved',
      'resolved',
      'pending',
    ]);
  });

  it('fails a reader past its deadline as TIMEOUT, nothing proposed, and keeps the others', async () => {
    const waiters = new IndexWaiters();
    const soon = track(waiters.wait(9, 100));
    const later = track(waiters.wait(9, 300));
    await vi.advanceTimersByTimeAsync(99);
    expect([soon.state, later.state]).toEqual(['pending', 'pending']);
    await vi.advanceTimersByTimeAsync(1);
    expectReplicaError(soon, 'TIMEOUT', 'not-proposed');
    expect(later.state).toBe('pending');
    waiters.release(9);
    await vi.advanceTimersByTimeAsync(500);
    expect(later.state).toBe('resolved');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('rejectAll fails every reader with the error given and stops the sweeping timer', async () => {
    const waiters = new IndexWaiters();
    const readers = [1, 2].map((i) => track(waiters.wait(i, 1_000)));
    const stopped = new ReplicaError('STOPPED', 'the node is shutting down', 'unknown');
    waiters.rejectAll(stopped);
    await settleCallbacks();
    expect(readers).toEqual([
      { state: 'rejected', error: stopped },
      { state: 'rejected', error: stopped },
    ]);
    expect(vi.getTimerCount()).toBe(0);
  });
});
