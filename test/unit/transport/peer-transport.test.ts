/**
 * Raft messages between real transports on 127.0.0.1: every message type arrives equal to what was
 * sent, messages of one turn leave as one frame, and a restarted peer is reconnected to.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Message } from '../../../core/raft/types.js';
import {
  closeAll,
  everyMessage,
  heartbeat,
  startMesh,
  startNode,
  waitConnected,
  type TestNode,
} from '../../support/transport-nodes.js';
import { waitFor } from '../../support/wait.js';

let nodes: (TestNode | undefined)[] = [];
afterEach(async () => {
  await closeAll(nodes);
  nodes = [];
});

describe('peer transport', () => {
  it('answers a peer it does not know at the address that peer advertised when it dialed', async () => {
    // A node joining a cluster knows none of its members: the leader dials it first.
    const a = await startNode('n1');
    const b = await startNode('n2');
    nodes = [a, b];
    a.transport.setAdvertise(a.address);
    a.transport.addPeer('n2', b.address);
    await waitFor(() => a.transport.peers()[0]?.connected === true, 'n1 connected to n2');
    a.transport.send([heartbeat('n1', 'n2', 1)]);
    await waitFor(() => b.received.length === 1, 'the heartbeat at n2');
    expect(b.transport.peers().map((p) => [p.id, p.address])).toEqual([['n1', a.address]]);
    b.transport.send([heartbeat('n2', 'n1', 2)]);
    await waitFor(() => a.received.length === 1, 'the answer at n1');
    expect(a.received[0]).toMatchObject({ from: 'n2', commit: 2 });
  });

  it('keeps the address it has for a peer over the one the peer advertises', async () => {
    const a = await startNode('n1');
    const b = await startNode('n2');
    nodes = [a, b];
    a.transport.setAdvertise('127.0.0.1:1');
    b.transport.addPeer('n1', a.address);
    a.transport.addPeer('n2', b.address);
    await waitConnected([a, b]);
    expect(b.transport.peers().map((p) => p.address)).toEqual([a.address]);
  });

  it('carries messages on the benchmarks’ plaintext transport too, which TLS peers cannot reach', async () => {
    // The node benchmark's baseline (TransportOptions.benchmarkPlaintext): it must work to be one.
    const [a, b] = (nodes = await startMesh(['n1', 'n2'], { benchmarkPlaintext: true })) as [
      TestNode,
      TestNode,
    ];
    a.transport.send(everyMessage('n1', 'n2'));
    await waitFor(() => b.received.length === everyMessage('n1', 'n2').length, 'all messages in plaintext');
    const c = await startNode('n3');
    nodes.push(c);
    c.transport.addPeer('n1', a.address);
    await waitFor(() => (c.transport.stats().refusals.NOT_TLS ?? 0) >= 1, 'the TLS node to refuse plaintext');
    expect(a.received).toEqual([]);
  });

  it('carries every Raft message type between two nodes, bytes included', async () => {
    const [a, b] = (nodes = await startMesh(['n1', 'n2'])) as [TestNode, TestNode];
    const toB = everyMessage('n1', 'n2');
    const toA = everyMessage('n2', 'n1');
    a.transport.send(toB);
    b.transport.send(toA);
    await waitFor(() => b.received.length === toB.length && a.received.length === toA.length, 'all messages');
    expect(b.received).toEqual(toB);
    expect(a.received).toEqual(toA);
    const append = b.received[0] as Extract<Message, { type: 'append' }>;
    expect(Object.getPrototypeOf(append.entries[0]?.data)).toBe(Uint8Array.prototype);
    expect(a.transport.stats()).toMatchObject({
      sent: toB.length,
      received: toA.length,
      malformed: 0,
      dropped: 0,
    });
  });

  it('routes each message to its addressee among three nodes', async () => {
    const [a, b, c] = (nodes = await startMesh(['n1', 'n2', 'n3'])) as [TestNode, TestNode, TestNode];
    a.transport.send([heartbeat('n1', 'n2', 1), heartbeat('n1', 'n3', 2), heartbeat('n1', 'n2', 3)]);
    c.transport.send(everyMessage('n3', 'n1'));
    b.transport.send([heartbeat('n2', 'n3', 4)]);
    await waitFor(
      () =>
        b.received.length === 2 &&
        c.received.length === 2 &&
        a.received.length === everyMessage('n3', 'n1').length,
      'deliveries to all three',
    );
    expect(b.received).toEqual([heartbeat('n1', 'n2', 1), heartbeat('n1', 'n2', 3)]);
    // From two senders: no order between them.
    expect(c.received).toHaveLength(2);
    expect(c.received).toEqual(expect.arrayContaining([heartbeat('n1', 'n3', 2), heartbeat('n2', 'n3', 4)]));
    expect(a.received).toEqual(everyMessage('n3', 'n1'));
  });

  it('coalesces the messages of one event-loop turn into one frame per peer', async () => {
    const [a, b, c] = (nodes = await startMesh(['n1', 'n2', 'n3'])) as [TestNode, TestNode, TestNode];
    const before = { a: a.transport.stats(), b: b.transport.stats(), c: c.transport.stats() };
    // 200 separate send calls to n2 and 100 to n3, all in one turn.
    for (let i = 1; i <= 200; i++) a.transport.send([heartbeat('n1', 'n2', i)]);
    for (let i = 1; i <= 100; i++) a.transport.send([heartbeat('n1', 'n3', i)]);
    expect(a.transport.stats().queued).toBe(300);
    await waitFor(() => b.received.length === 200 && c.received.length === 100, 'all 300 messages');
    expect(a.transport.stats().framesSent - before.a.framesSent).toBe(2);
    expect(b.transport.stats().framesReceived - before.b.framesReceived).toBe(1);
    expect(c.transport.stats().framesReceived - before.c.framesReceived).toBe(1);
    expect(b.received.map((m) => (m.type === 'heartbeat' ? m.commit : -1))).toEqual(
      Array.from({ length: 200 }, (_, i) => i + 1),
    );
    // The next turn is the next frame.
    a.transport.send([heartbeat('n1', 'n2', 201)]);
    await waitFor(() => b.received.length === 201, 'the message of the next turn');
    expect(b.transport.stats().framesReceived - before.b.framesReceived).toBe(2);
  });

  it('splits a turn into several frames only when it exceeds the frame size', async () => {
    nodes = await startMesh(['n1', 'n2'], { maxFrameBytes: 64 * 1024 });
    const [a, b] = nodes as [TestNode, TestNode];
    const chunk = (offset: number): Message => ({
      type: 'snapshot',
      from: 'n1',
      to: 'n2',
      term: 1,
      meta: { index: 9, term: 1, conf: { voters: ['n1', 'n2'], learners: [] } },
      offset,
      total: 4 * 20_000,
      data: new Uint8Array(20_000).fill(offset % 251),
    });
    a.transport.send([chunk(0), chunk(20_000), chunk(40_000), chunk(60_000)]);
    await waitFor(() => b.received.length === 4, 'four snapshot chunks');
    // Bytes compared as Buffers: element-wise deep equality on 80 kB is needlessly slow.
    const sent = [chunk(0), chunk(20_000), chunk(40_000), chunk(60_000)];
    b.received.forEach((m, i) => {
      const expected = sent[i] as Extract<Message, { type: 'snapshot' }>;
      expect(m).toEqual({ ...expected, data: expect.any(Uint8Array) });
      expect(m.type === 'snapshot' && Buffer.from(m.data).equals(expected.data)).toBe(true);
    });
    expect(a.transport.stats().framesSent).toBe(2);
  });

  it('reconnects to a peer that restarts on the same port', async () => {
    const [a, b] = (nodes = await startMesh(['n1', 'n2'])) as [TestNode, TestNode];
    a.transport.send([heartbeat('n1', 'n2', 1)]);
    await waitFor(() => b.received.length === 1, 'first message');

    await b.transport.close();
    await waitFor(() => !a.transport.peers()[0]?.connected, 'n1 to notice that n2 is gone');
    a.transport.send([heartbeat('n1', 'n2', 2)]); // dropped: nobody to send it to
    expect(a.transport.stats().dropped).toBe(1);

    const b2 = await startNode('n2', { port: b.port });
    nodes[1] = b2;
    b2.transport.addPeer('n1', a.address);
    await waitConnected([a, b2]);
    a.transport.send([heartbeat('n1', 'n2', 3)]);
    b2.transport.send([heartbeat('n2', 'n1', 4)]);
    await waitFor(
      () => b2.received.length === 1 && a.received.length === 1,
      'messages both ways after restart',
    );
    expect(b2.received).toEqual([heartbeat('n1', 'n2', 3)]);
    expect(a.received).toEqual([heartbeat('n2', 'n1', 4)]);
  });

  it('reports connected peers with a measured round-trip time', async () => {
    const [a] = (nodes = await startMesh(['n1', 'n2'])) as [TestNode, TestNode];
    await waitFor(() => a.transport.peers()[0]?.rttMs !== undefined, 'a round-trip measurement');
    const [peer] = a.transport.peers();
    expect(peer).toMatchObject({
      id: 'n2',
      address: nodes[1]?.address,
      connected: true,
      inbound: true,
      cut: false,
    });
    expect(peer?.rttMs).toBeGreaterThanOrEqual(0);
    expect(peer?.rttMs).toBeLessThan(1_000);
  });

  it('drops messages to unknown peers and stops talking to a removed one', async () => {
    const [a, b] = (nodes = await startMesh(['n1', 'n2'])) as [TestNode, TestNode];
    a.transport.send([heartbeat('n1', 'n9', 1)]);
    expect(a.transport.stats().dropped).toBe(1);
    a.transport.removePeer('n2');
    expect(a.transport.peers()).toEqual([]);
    a.transport.send([heartbeat('n1', 'n2', 2)]);
    expect(a.transport.stats().dropped).toBe(2);
    // n2 still reaches n1 over its own connection.
    b.transport.send([heartbeat('n2', 'n1', 3)]);
    await waitFor(() => a.received.length === 1, 'n2 still sends to n1');
  });

  it('closes promptly and refuses to start again', async () => {
    const [a] = (nodes = await startMesh(['n1', 'n2'])) as [TestNode, TestNode];
    const started = performance.now();
    await a.transport.close();
    expect(performance.now() - started).toBeLessThan(1_000);
    await expect(a.transport.start()).rejects.toMatchObject({ code: 'CLOSED' });
    await expect(a.transport.request('n2', 'x', null, 100)).rejects.toMatchObject({ code: 'CLOSED' });
  });
});
