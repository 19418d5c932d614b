/**
 * An on-path relay between two peers. One that only reads sees ciphertext; one that flips a single
 * byte after the handshake gets the connection dropped, and the altered frame is never delivered.
 * Over the old plaintext websocket both would have passed.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeCommand } from '../../../core/model/commands.js';
import type { Message } from '../../../core/raft/types.js';
import { closeAll, firstAppend, startNode, type TestNode } from '../../support/transport-nodes.js';
import { waitFor } from '../../support/wait.js';

class Relay {
  readonly seen: Buffer[] = [];
  /** Set: flip one byte in the next chunk from the dialler to the target. */
  flipNext = false;
  flipped = 0;
  upstreamClosed = 0;
  private readonly sockets = new Set<Socket>();
  private constructor(private readonly server: Server) {}

  static async start(targetPort: number): Promise<Relay> {
    const server = createServer();
    const relay = new Relay(server);
    server.on('connection', (client) => {
      const upstream = connect(targetPort, '127.0.0.1');
      relay.sockets.add(client).add(upstream);
      client.on('data', (chunk: Buffer) => {
        relay.seen.push(Buffer.from(chunk));
        if (relay.flipNext && chunk.length > 64) {
          relay.flipNext = false;
          relay.flipped += 1;
          chunk[Math.floor(chunk.length / 2)]! ^= 0x01;
        }
        upstream.write(chunk);
      });
      upstream.on('data', (chunk: Buffer) => {
        relay.seen.push(Buffer.from(chunk));
        client.write(chunk);
      });
      upstream.on('close', () => {
        relay.upstreamClosed += 1;
        client.destroy();
      });
      client.on('close', () => upstream.destroy());
      client.on('error', () => undefined);
      upstream.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return relay;
  }

  get address(): string {
    return `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

let nodes: TestNode[] = [];
let relay: Relay | undefined;
afterEach(async () => {
  await closeAll(nodes);
  nodes = [];
  await relay?.close();
  relay = undefined;
});

const marked = (context: string): Message => ({
  type: 'heartbeat',
  from: 'n1',
  to: 'n2',
  term: 1,
  commit: 7,
  context,
});

describe('on-path relay', () => {
  it('sees only ciphertext: not an identity a replicated write creates, nor the handshake', async () => {
    // Node ids long enough that ciphertext does not contain them by chance (a 2-byte id would,
    // in a few kilobytes, about one run in ten).
    const [a, b] = (nodes = [await startNode('node-alpha'), await startNode('node-bravo')]) as [
      TestNode,
      TestNode,
    ];
    relay = await Relay.start(b.port);
    a.transport.addPeer('node-bravo', relay.address);
    // A log entry as the leader replicates it: a model command that creates the identity.
    const command = encodeCommand({
      op: 'create',
      collection: 'identities',
      id: 'id-1',
      at: '2026-12-07T00:00:00.000Z',
      data: { name: 'alice-laptop', type: 'Device', roleAttributes: ['sales'], tags: {} },
    });
    expect(Buffer.from(command).includes(Buffer.from('alice-laptop'))).toBe(true); // in clear in the entry
    const append = firstAppend('node-alpha', 'node-bravo', command);
    await waitFor(() => {
      a.transport.send([append]);
      return b.received.some((m) => m.type === 'append');
    }, 'the entry through the relay');
    const wire = Buffer.concat(relay.seen);
    expect(wire.length).toBeGreaterThan(1000);
    expect(wire.includes(Buffer.from('alice-laptop'))).toBe(false);
    expect(wire.includes(Buffer.from('/raft'))).toBe(false); // not even the upgrade request
    expect(wire.includes(Buffer.from('node-alpha'))).toBe(false); // nor the hello's names
    expect(wire.includes(Buffer.from('node-bravo'))).toBe(false);
  });

  it('cannot alter a frame: a flipped byte drops the connection and delivers nothing', async () => {
    const [a, b] = (nodes = [await startNode('n1'), await startNode('n2')]) as [TestNode, TestNode];
    relay = await Relay.start(b.port);
    a.transport.addPeer('n2', relay.address);
    await waitFor(() => {
      a.transport.send([marked('before')]);
      return b.received.some((m) => m.type === 'heartbeat' && m.context === 'before');
    }, 'a heartbeat through the relay');
    const closedBefore = relay.upstreamClosed;
    relay.flipNext = true;
    a.transport.send([marked('altered')]);
    await waitFor(
      () => relay!.flipped === 1 && relay!.upstreamClosed > closedBefore,
      'the target to drop the connection',
    );
    expect(b.received.some((m) => m.type === 'heartbeat' && m.context === 'altered')).toBe(false);
    expect(b.transport.stats().malformed).toBe(0); // refused by TLS, before any decoding
    // The link recovers on a fresh connection.
    await waitFor(() => {
      a.transport.send([marked('after')]);
      return b.received.some((m) => m.type === 'heartbeat' && m.context === 'after');
    }, 'a heartbeat on the new connection');
  });
});
