/**
 * Fault injection: drop a fraction of the traffic to a peer, delay it, or cut the peer off in both
 * directions; clearing the plan restores traffic.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Message } from '../../../core/raft/types.js';
import { closeAll, heartbeat, startMesh, type TestNode } from '../../support/transport-nodes.js';
import { waitFor } from '../../support/wait.js';

let nodes: TestNode[] = [];
afterEach(async () => {
  await closeAll(nodes);
  nodes = [];
});

/** mulberry32: a small seeded generator, so the dropped fraction is exact for a seed. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const commits = (ms: readonly Message[]): number[] => ms.map((m) => (m.type === 'heartbeat' ? m.commit : -1));

describe('fault injection', () => {
  it('drops about the given fraction of messages to a peer', async () => {
    nodes = await startMesh(['n1', 'n2'], { random: seeded(42) });
    const [a, b] = nodes as [TestNode, TestNode];
    a.transport.setFaults('n2', { drop: 0.3 });
    const batch = Array.from({ length: 1_000 }, (_, i) => heartbeat('n1', 'n2', i));
    a.transport.send(batch);
    const dropped = a.transport.stats().dropped;
    expect(dropped).toBeGreaterThan(230);
    expect(dropped).toBeLessThan(370);
    await waitFor(() => b.received.length === 1_000 - dropped, 'the messages that were not dropped');
    // What arrives, arrives in order.
    const got = commits(b.received);
    expect(got).toEqual([...got].sort((x, y) => x - y));

    a.transport.setFaults('n2', { drop: 1 });
    a.transport.send([heartbeat('n1', 'n2', 5_000)]);
    await expect(a.transport.request('n2', 'x', null, 150)).rejects.toMatchObject({ code: 'TIMEOUT' });
    expect(a.transport.stats().dropped).toBe(dropped + 1);

    a.transport.setFaults('n2', undefined);
    a.transport.send([heartbeat('n1', 'n2', 6_000)]);
    await waitFor(
      () => b.received.at(-1)?.type === 'heartbeat' && commits(b.received).at(-1) === 6_000,
      'traffic restored',
    );
  });

  it('delays messages and requests to a peer, keeping their order', async () => {
    nodes = await startMesh(['n1', 'n2']);
    const [a, b] = nodes as [TestNode, TestNode];
    b.transport.handle('now', async () => 'ok');
    a.transport.setFaults('n2', { delayMs: 300 });
    const sentAt = performance.now();
    a.transport.send([heartbeat('n1', 'n2', 1), heartbeat('n1', 'n2', 2)]);
    a.transport.send([heartbeat('n1', 'n2', 3)]);
    await waitFor(() => b.received.length === 3, 'the delayed messages');
    expect(performance.now() - sentAt).toBeGreaterThanOrEqual(290);
    expect(commits(b.received)).toEqual([1, 2, 3]);

    const askedAt = performance.now();
    await expect(a.transport.request('n2', 'now', null, 2_000)).resolves.toBe('ok');
    expect(performance.now() - askedAt).toBeGreaterThanOrEqual(290);
    // Only traffic to n2 is delayed.
    const backAt = performance.now();
    b.transport.send([heartbeat('n2', 'n1', 1)]);
    await waitFor(() => a.received.length === 1, 'n2 to n1 undelayed');
    expect(performance.now() - backAt).toBeLessThan(290);
  });

  it('cuts all traffic to and from a peer until cleared', async () => {
    nodes = await startMesh(['n1', 'n2', 'n3']);
    const [a, b, c] = nodes as [TestNode, TestNode, TestNode];
    a.transport.handle('hello', async () => 'hi');
    b.transport.handle('hello', async () => 'hi');
    a.transport.setFaults('n2', { cut: true });
    expect(a.transport.peers().find((p) => p.id === 'n2')).toMatchObject({ connected: false, cut: true });

    a.transport.send([heartbeat('n1', 'n2', 1), heartbeat('n1', 'n3', 1)]);
    b.transport.send([heartbeat('n2', 'n1', 1), heartbeat('n2', 'n3', 2)]);
    await waitFor(() => c.received.length === 2, 'n3 to hear from both');
    await waitFor(
      () => a.transport.stats().dropped === 2,
      'n1 to drop what it sent to n2 and what n2 sent it',
    );
    expect(a.received).toEqual([]);
    expect(b.received).toEqual([]);
    await expect(a.transport.request('n2', 'hello', null, 1_000)).rejects.toMatchObject({
      code: 'UNREACHABLE',
    });
    // n2 does not know about the cut: its request goes out and is lost.
    await expect(b.transport.request('n1', 'hello', null, 200)).rejects.toMatchObject({ code: 'TIMEOUT' });

    a.transport.setFaults('n2', undefined);
    a.transport.send([heartbeat('n1', 'n2', 3)]);
    b.transport.send([heartbeat('n2', 'n1', 4)]);
    await waitFor(() => a.received.length === 1 && b.received.length === 1, 'traffic restored both ways');
    await expect(a.transport.request('n2', 'hello', null, 1_000)).resolves.toBe('hi');
  });
});
