/**
 * The mutual handshake: a peer of another cluster or with another secret is refused in both
 * directions, counted and logged, and not one of its messages is delivered.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import msgpackParser from 'socket.io-msgpack-parser';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CLUSTER,
  RawPeer,
  closeAll,
  connectAll,
  heartbeat,
  startNode,
  type TestNode,
} from '../../support/transport-nodes.js';
import { waitFor } from '../../support/wait.js';

let nodes: (TestNode | undefined)[] = [];
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  await closeAll(nodes);
  nodes = [];
  for (const c of cleanups.splice(0)) await c();
});

/** Both nodes try to talk for a while; each must have refused the other at least twice. */
async function expectMutualRefusal(a: TestNode, b: TestNode, reason: string): Promise<void> {
  connectAll([a, b]);
  const sendBoth = (): void => {
    a.transport.send([heartbeat('n1', 'n2', 1)]);
    b.transport.send([heartbeat('n2', 'n1', 1)]);
  };
  await waitFor(() => {
    sendBoth();
    return a.transport.stats().refusedHandshakes >= 2 && b.transport.stats().refusedHandshakes >= 2;
  }, `both sides to refuse the other (${reason}) on repeated attempts`);
  expect(a.received).toEqual([]);
  expect(b.received).toEqual([]);
  expect(a.transport.peers()[0]?.connected).toBe(false);
  expect(b.transport.peers()[0]?.connected).toBe(false);
  for (const n of [a, b]) {
    expect(n.transport.stats().received).toBe(0);
    expect(n.logs.some((l) => l.message === 'refused peer handshake' && l.details?.reason === reason)).toBe(
      true,
    );
  }
}

describe('peer handshake', () => {
  it('refuses a peer with the wrong secret, in both directions', async () => {
    const a = await startNode('n1');
    const b = await startNode('n2', { secret: 'another secret' });
    nodes = [a, b];
    await expectMutualRefusal(a, b, 'BAD_PROOF');
  });

  it('refuses a peer of another cluster, in both directions', async () => {
    const a = await startNode('n1');
    const b = await startNode('n2', { clusterId: 'c-other' });
    nodes = [a, b];
    await expectMutualRefusal(a, b, 'CLUSTER_MISMATCH');
  });

  it('refuses a connection addressed to another node id', async () => {
    const a = await startNode('n1');
    nodes = [a];
    const raw = new RawPeer('n2', a, { to: 'n7' });
    cleanups.push(() => raw.close());
    await waitFor(() => raw.connectError !== undefined, 'the connection to be refused');
    expect(raw.connectError).toBe('WRONG_NODE');
    expect(a.transport.stats().refusedHandshakes).toBe(1);
  });

  it('accepts no frame before the client proved itself, and drops one that never does', async () => {
    const a = await startNode('n1', { handshakeTimeoutMs: 300 });
    nodes = [a];
    const raw = new RawPeer('n2', a, { answerChallenge: false });
    cleanups.push(() => raw.close());
    await waitFor(() => raw.socket.connected, 'the raw peer to join the namespace');
    raw.socket.emit('raft', [heartbeat('n2', 'n1', 1)]);
    raw.socket.emit('request', 'anything', null, () => undefined);
    await waitFor(() => raw.disconnected, 'the silent peer to be disconnected after the handshake timeout');
    expect(a.received).toEqual([]);
    expect(a.transport.stats()).toMatchObject({ received: 0, refusedHandshakes: 1 });
    expect(a.transport.stats().malformed).toBeGreaterThanOrEqual(2);
    expect(a.logs.some((l) => l.details?.reason === 'TIMEOUT')).toBe(true);
  });

  it('completes with a hand-driven peer that knows the secret', async () => {
    const a = await startNode('n1');
    nodes = [a];
    const raw = new RawPeer('n2', a);
    cleanups.push(() => raw.close());
    await raw.waitWelcome();
    raw.socket.emit('raft', [heartbeat('n2', 'n1', 5)]);
    await waitFor(() => a.received.length === 1, 'the message after the handshake');
    expect(a.received).toEqual([heartbeat('n2', 'n1', 5)]);
  });

  it('as a client, refuses a server whose proof is wrong and sends it nothing', async () => {
    // A server that knows the cluster id and the protocol but not the secret: it accepts any
    // proof and answers with a forged one.
    const http = createServer();
    const io = new Server(http, { transports: ['websocket'], parser: msgpackParser });
    const frames: unknown[] = [];
    io.of('/raft').on('connection', (socket) => {
      socket.on('raft', (frame: unknown) => frames.push(frame));
      socket.emit(
        'auth:challenge',
        { v: 1, clusterId: CLUSTER, nodeId: 'n2', nonce: Buffer.alloc(32, 7) },
        () => socket.emit('auth:welcome', { proof: Buffer.alloc(32, 1) }),
      );
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => void io.close(() => resolve())));
    const a = await startNode('n1');
    nodes = [a];
    a.transport.addPeer('n2', `127.0.0.1:${(http.address() as AddressInfo).port}`);
    await waitFor(() => {
      a.transport.send([heartbeat('n1', 'n2', 1)]);
      return a.transport.stats().refusedHandshakes >= 2;
    }, 'n1 to refuse the impostor on repeated attempts');
    expect(frames).toEqual([]);
    expect(a.transport.peers()[0]?.connected).toBe(false);
    expect(
      a.logs.some((l) => l.message === 'refused peer handshake' && l.details?.reason === 'BAD_PROOF'),
    ).toBe(true);
  });

  it('does not connect to another node than the one dialled', async () => {
    const a = await startNode('n1');
    const c = await startNode('n3');
    nodes = [a, c];
    a.transport.addPeer('n2', c.address); // n3 listens where n2 was expected
    await waitFor(() => c.transport.stats().refusedHandshakes >= 1, 'n3 to refuse a hello meant for n2');
    await waitFor(
      () =>
        a.logs.some((l) => l.message === 'peer refused our handshake' && l.details?.detail === 'WRONG_NODE'),
      'n1 to log why it was refused',
    );
    expect(a.transport.peers()[0]?.connected).toBe(false);
  });
});
