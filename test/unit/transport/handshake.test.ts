/**
 * The handshake over mutual TLS: a peer with a certificate another CA issued, an expired one, one
 * that names another node, none at all, plain HTTP, another cluster or another addressee is
 * refused at the handshake, in both directions where both ends can tell, counted by reason and
 * logged once per peer and minute; not one of its messages is delivered.
 */
import { X509Certificate } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import msgpackParser from 'socket.io-msgpack-parser';
import { afterEach, describe, expect, it } from 'vitest';
import { createClusterCa } from '../../../core/pki/ca.js';
import type { RefusalReason } from '../../../core/transport/types.js';
import { testTls } from '../../support/test-pki.js';
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

const DAY_MS = 24 * 60 * 60 * 1000;

function refusals(node: TestNode, reason: RefusalReason): number {
  return node.transport.stats().refusals[reason] ?? 0;
}

function logged(node: TestNode, reason: string): boolean {
  return node.logs.some((l) => l.message === 'refused peer handshake' && l.details?.reason === reason);
}

/** Both nodes try to talk for a while; each listed one must have refused the other twice. */
async function expectRefusal(
  a: TestNode,
  b: TestNode,
  reason: RefusalReason,
  refusers: TestNode[],
): Promise<void> {
  connectAll([a, b]);
  await waitFor(
    () => {
      a.transport.send([heartbeat('n1', 'n2', 1)]);
      b.transport.send([heartbeat('n2', 'n1', 1)]);
      return refusers.every((n) => refusals(n, reason) >= 2);
    },
    `${refusers.map((n) => n.id).join(' and ')} to refuse the other (${reason}) on repeated attempts`,
  );
  for (const n of [a, b]) {
    expect(n.received).toEqual([]);
    expect(n.transport.stats().received).toBe(0);
    expect(n.transport.peers()[0]?.connected).toBe(false);
  }
  for (const n of refusers) {
    expect(logged(n, reason)).toBe(true);
    expect(n.transport.stats().refusedHandshakes).toBeGreaterThanOrEqual(refusals(n, reason));
  }
}

describe('peer handshake over mutual TLS', () => {
  it('refuses a peer whose certificate another CA issued, in both directions', async () => {
    const foreign = await createClusterCa(CLUSTER); // the same cluster id, other keys
    const a = await startNode('n1');
    const b = await startNode('n2', { tls: await testTls(CLUSTER, 'n2', { ca: foreign }) });
    nodes = [a, b];
    await expectRefusal(a, b, 'UNTRUSTED_CERTIFICATE', [a, b]);
  });

  it('refuses an expired certificate, in both directions', async () => {
    const a = await startNode('n1');
    const expired = await testTls(CLUSTER, 'n2', { validityDays: 1, now: new Date(Date.now() - 3 * DAY_MS) });
    const b = await startNode('n2', { tls: expired });
    nodes = [a, b];
    await expectRefusal(a, b, 'EXPIRED_CERTIFICATE', [a]);
    // b's own dials fail too: a refuses its client certificate, which b sees as a refusal.
    expect(b.transport.peers()[0]?.connected).toBe(false);
  });

  it('refuses a certificate of the cluster CA that names another node, as server and as client', async () => {
    const a = await startNode('n1');
    const b = await startNode('n2', { tls: await testTls(CLUSTER, 'n2', { namedAs: 'n9' }) });
    nodes = [a, b];
    // As server, n1 sees a client claiming n2 with n9's certificate; as client, n1 dialled n2 and
    // reached a server whose certificate says n9.
    await expectRefusal(a, b, 'WRONG_IDENTITY', [a]);
    expect(a.logs.some((l) => String(l.details?.detail).includes('spiffe://c-test/controller/n9'))).toBe(
      true,
    );
  });

  it('refuses TLS without a client certificate, logging it once a minute but counting every one', async () => {
    const a = await startNode('n1');
    nodes = [a];
    for (let i = 1; i <= 3; i++) {
      const raw = new RawPeer('n2', a, { tls: 'none' });
      cleanups.push(() => raw.close());
      await waitFor(() => raw.connectError !== undefined, 'the connection to be refused');
      expect(raw.connectError).toBe('NO_CERTIFICATE');
      expect(refusals(a, 'NO_CERTIFICATE')).toBe(i);
    }
    const lines = a.logs.filter((l) => l.message === 'refused peer handshake');
    expect(lines.map((l) => l.details?.reason)).toEqual(['NO_CERTIFICATE']);
  });

  it('refuses plain HTTP on the cluster port', async () => {
    const a = await startNode('n1');
    nodes = [a];
    await expect(fetch(`http://${a.address}/socket.io/?EIO=4&transport=websocket`)).rejects.toThrow();
    await waitFor(() => refusals(a, 'NOT_TLS') === 1, 'the plain request to be counted');
    expect(a.logs.some((l) => l.details?.reason === 'NOT_TLS')).toBe(true);
  });

  it('refuses a certified peer that says another cluster, another addressee, or another name', async () => {
    const a = await startNode('n1');
    nodes = [a];
    const n2 = await testTls(CLUSTER, 'n2');
    const cases: [RawPeer, string][] = [
      [new RawPeer('n2', a, { tls: n2, clusterId: 'c-other' }), 'CLUSTER_MISMATCH'],
      [new RawPeer('n2', a, { tls: n2, to: 'n7' }), 'WRONG_NODE'],
      [new RawPeer('n3', a, { tls: n2 }), 'WRONG_IDENTITY'], // n2's certificate, claiming n3
      [
        new RawPeer('n2', a, { tls: n2, hello: { v: 1, clusterId: CLUSTER, from: 'n2', to: 'n1' } }),
        'BAD_HELLO',
      ],
    ];
    for (const [raw, reason] of cases) {
      cleanups.push(() => raw.close());
      await waitFor(() => raw.connectError !== undefined, `the ${reason} connection to be refused`);
      expect(raw.connectError).toBe(reason);
      expect(refusals(a, reason as RefusalReason)).toBe(1);
    }
    expect(a.received).toEqual([]);
  });

  it('delivers the frames of a hand-driven peer that holds its own certificate', async () => {
    const a = await startNode('n1');
    nodes = [a];
    const raw = await RawPeer.certified('n2', a);
    cleanups.push(() => raw.close());
    await raw.waitConnected();
    raw.socket.emit('raft', [heartbeat('n2', 'n1', 5)]);
    await waitFor(() => a.received.length === 1, 'the message');
    expect(a.received).toEqual([heartbeat('n2', 'n1', 5)]);
    expect(a.transport.stats().refusedHandshakes).toBe(0);
  });

  it('as a client, refuses a server that does not speak TLS and sends it nothing', async () => {
    const http = createServer();
    const io = new Server(http, { transports: ['websocket'], parser: msgpackParser });
    const frames: unknown[] = [];
    io.of('/raft').on('connection', (socket) => socket.on('raft', (frame: unknown) => frames.push(frame)));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => void io.close(() => resolve())));
    const a = await startNode('n1');
    nodes = [a];
    a.transport.addPeer('n2', `127.0.0.1:${(http.address() as AddressInfo).port}`);
    await waitFor(() => {
      a.transport.send([heartbeat('n1', 'n2', 1)]);
      return refusals(a, 'NOT_TLS') >= 2;
    }, 'n1 to refuse the plaintext server on repeated attempts');
    expect(frames).toEqual([]);
    expect(a.transport.peers()[0]?.connected).toBe(false);
  });

  it('serves a renewed certificate to new connections once reloaded, dials with it at once', async () => {
    let current = await testTls(CLUSTER, 'n1');
    const first = current;
    const a = await startNode('n1', { tls: () => current });
    const b = await startNode('n2');
    nodes = [a, b];
    const serverSerial = async (): Promise<string> => {
      const raw = await RawPeer.certified('n2', a);
      cleanups.push(() => raw.close());
      await raw.waitConnected();
      return raw.serverSerial ?? '';
    };
    const before = await serverSerial();
    current = await testTls(CLUSTER, 'n1'); // renewed: a new key and certificate for the same node
    expect(await serverSerial()).toBe(before); // the listener still serves the old one
    a.transport.reloadCredentials();
    const after = await serverSerial();
    expect(after).not.toBe(before);
    expect(after).toBe(new X509Certificate(current.cert).serialNumber);
    expect(before).toBe(new X509Certificate(first.cert).serialNumber);
    // Its dials present the new certificate too: n2 accepts it as n1.
    connectAll([a, b]);
    await waitFor(() => {
      a.transport.send([heartbeat('n1', 'n2', 3)]);
      return b.received.length > 0;
    }, 'n2 to receive from the renewed n1');
    expect(b.transport.stats().refusedHandshakes).toBe(0);
  });

  it('does not connect to another node than the one dialled', async () => {
    const a = await startNode('n1');
    const c = await startNode('n3');
    nodes = [a, c];
    a.transport.addPeer('n2', c.address); // n3 listens where n2 was expected
    await waitFor(
      () => refusals(a, 'WRONG_IDENTITY') >= 1,
      'n1 to refuse n3’s certificate where it dialled n2',
    );
    expect(a.transport.peers()[0]?.connected).toBe(false);
    expect(c.transport.stats().received).toBe(0);
  });
});
