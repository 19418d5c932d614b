/**
 * Back-pressure: nothing piles up for a peer that is down or does not keep up. Raft messages to it
 * are dropped and counted (Raft retries by itself), and memory stays flat.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Message } from '../../../core/raft/types.js';
import {
  closeAll,
  heartbeat,
  startMesh,
  startNode,
  waitConnected,
  type TestNode,
} from '../../support/transport-nodes.js';
import { waitFor } from '../../support/wait.js';

let nodes: (TestNode | undefined)[] = [];
let proxy: StallingProxy | undefined;
afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
  await closeAll(nodes);
  nodes = [];
});

const CHUNK = new Uint8Array(64 * 1024).fill(7);

function chunk(from: string, to: string, offset: number): Message {
  return {
    type: 'snapshot',
    from,
    to,
    term: 1,
    meta: { index: 100, term: 1, conf: { voters: ['n1', 'n2'], learners: [] } },
    offset,
    total: 1 << 30,
    data: CHUNK,
  };
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Memory that would grow if frames were kept for the peer: JS heap plus Buffers. */
function memoryInUse(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/** A TCP relay in front of a node whose upstream direction can be stalled: the peer stops reading. */
class StallingProxy {
  private readonly pairs: { down: Socket; up: Socket }[] = [];
  private constructor(readonly server: Server) {}

  static async start(targetPort: number): Promise<StallingProxy> {
    const server = createServer();
    const proxy = new StallingProxy(server);
    server.on('connection', (down) => {
      const up = connect(targetPort, '127.0.0.1');
      down.on('error', () => undefined);
      up.on('error', () => undefined);
      down.pipe(up);
      up.pipe(down);
      proxy.pairs.push({ down, up });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get address(): string {
    return `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stall(): void {
    for (const { down, up } of this.pairs) {
      down.unpipe(up);
      down.pause();
    }
  }

  resume(): void {
    for (const { down, up } of this.pairs) down.pipe(up);
  }

  async close(): Promise<void> {
    for (const { down, up } of this.pairs) {
      down.destroy();
      up.destroy();
    }
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

describe('back-pressure', () => {
  it('drops everything for a peer that is down, buffering nothing', async () => {
    nodes = await startMesh(['n1', 'n2']);
    const [a, b] = nodes as [TestNode, TestNode];
    await b.transport.close();
    await waitFor(() => !a.transport.peers()[0]?.connected, 'n1 to notice that n2 is down');

    const before = memoryInUse();
    let offered = 0;
    for (let turn = 0; turn < 50; turn++) {
      const batch = Array.from({ length: 100 }, (_, i) => chunk('n1', 'n2', (turn * 100 + i) * CHUNK.length));
      a.transport.send(batch);
      offered += batch.length;
      await nextTurn();
      expect(a.transport.stats().queued).toBe(0);
    }
    // 5000 chunks of 64 KiB: 320 MiB offered, none of it kept.
    expect(a.transport.stats()).toMatchObject({ dropped: offered, sent: 0, queued: 0 });
    expect(memoryInUse() - before).toBeLessThan(48 * 1024 * 1024);

    // Nothing was kept for later either: once n2 is back, it receives only what is sent from then on.
    const b2 = await startNode('n2', { port: b.port });
    nodes[1] = b2;
    await waitFor(() => a.transport.peers()[0]?.connected === true, 'n1 to reconnect to n2');
    a.transport.send([heartbeat('n1', 'n2', 1)]);
    await waitFor(() => b2.received.length === 1, 'the new message');
    expect(b2.received).toEqual([heartbeat('n1', 'n2', 1)]);
    expect(b2.transport.stats().framesReceived).toBe(1);
  });

  it('drops messages for a connected peer that stops reading, and recovers when it reads again', async () => {
    const maxBufferedBytes = 1024 * 1024;
    const b = await startNode('n2');
    const a = await startNode('n1', { maxBufferedBytes });
    nodes = [a, b];
    proxy = await StallingProxy.start(b.port);
    a.transport.addPeer('n2', proxy.address);
    await waitConnected([a]);

    proxy.stall();
    const before = memoryInUse();
    let maxBuffered = 0;
    let offset = 0;
    // 2000 chunks of 64 KiB, 4 per turn: 125 MiB, far more than the socket buffers hold.
    for (let turn = 0; turn < 500; turn++) {
      a.transport.send([0, 1, 2, 3].map(() => chunk('n1', 'n2', (offset += CHUNK.length))));
      await nextTurn();
      maxBuffered = Math.max(maxBuffered, a.transport.peers()[0]?.bufferedBytes ?? 0);
    }
    const stats = a.transport.stats();
    expect(stats.dropped).toBeGreaterThan(1000);
    expect(stats.sent + stats.dropped).toBe(2000);
    // At most one frame (4 chunks) beyond the limit is ever handed to the socket.
    expect(maxBuffered).toBeGreaterThan(maxBufferedBytes / 2);
    expect(maxBuffered).toBeLessThanOrEqual(maxBufferedBytes + 4 * (CHUNK.length + 1024));
    expect(memoryInUse() - before).toBeLessThan(64 * 1024 * 1024);
    expect(a.transport.peers()[0]?.connected).toBe(true);

    // The peer reads again: what was sent arrives, and new messages flow.
    proxy.resume();
    await waitFor(() => b.received.length === stats.sent, 'every message that was not dropped');
    a.transport.send([heartbeat('n1', 'n2', 1)]);
    await waitFor(() => b.received.at(-1)?.type === 'heartbeat', 'a new message after the stall');
  });
});
