/**
 * The cluster port against strangers (admission.ts): raw websockets and TCP connections without a
 * certificate, as a LAN attacker or a browser page would open them.
 */
import { connect as tcpConnect, type Socket as NetSocket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { RawPeer, closeAll, firstAppend, startNode, type TestNode } from '../../support/transport-nodes.js';
import { waitFor } from '../../support/wait.js';

let nodes: TestNode[] = [];
const cleanups: (() => void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) cleanup();
  await closeAll(nodes);
  nodes = [];
});

/** A websocket to the engine, below socket.io, with no client certificate. */
function stranger(node: TestNode, headers: Record<string, string> = {}): WebSocket {
  const ws = new WebSocket(`wss://${node.address}/socket.io/?EIO=4&transport=websocket`, {
    rejectUnauthorized: false,
    headers,
  });
  ws.on('error', () => undefined);
  cleanups.push(() => ws.terminate());
  return ws;
}

/** Resolves when the engine's open packet arrived (the websocket is up and served). */
function opened(ws: WebSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    ws.once('message', () => resolve());
    ws.once('close', () => reject(new Error('closed before the engine opened')));
  });
}

function closed(ws: WebSocket): Promise<number> {
  return new Promise((resolve) => {
    if (ws.readyState === WebSocket.CLOSED) resolve(1006);
    else ws.once('close', (code) => resolve(code));
  });
}

const linesWith = (node: TestNode, text: string): number =>
  node.logs.filter((l) => l.message.includes(text)).length;

describe('the cluster port before a connection has authenticated', () => {
  it('closes a connection at its first frame that does not decode, and logs the flood in one line', async () => {
    const a = await startNode('n1');
    nodes = [a];
    const junk = Buffer.from([0xc1, 0xc1, 0xc1, 0xc1]);
    for (let i = 0; i < 5; i++) {
      const ws = stranger(a);
      await opened(ws);
      // An engine message packet ('4') carrying bytes that are no msgpack, many times over.
      for (let j = 0; j < 500 && ws.readyState === WebSocket.OPEN; j++) ws.send(junk);
      await closed(ws);
    }
    expect(a.transport.stats().malformed).toBe(5);
    expect(linesWith(a, 'does not decode')).toBe(1);
    expect(a.transport.pendingConnections()).toBe(0);
  });

  it('refuses a websocket message above 16 KiB by its header, before buffering it', async () => {
    const a = await startNode('n1');
    nodes = [a];
    const ws = stranger(a);
    await opened(ws);
    ws.send(Buffer.alloc(2 * 1024 * 1024, 7));
    // 1009: the message is too big (ws refuses it from the frame's length field).
    expect(await closed(ws)).toBe(1009);
    await waitFor(() => a.transport.pendingConnections() === 0, 'the connection to be released');
  });

  it('refuses a browser page: a request with an Origin header gets no websocket', async () => {
    const a = await startNode('n1');
    nodes = [a];
    const ws = stranger(a, { Origin: 'http://evil.example' });
    const status = await new Promise<number>((resolve) => {
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.once('open', () => resolve(101));
    });
    // engine.io answers a refused upgrade with 400.
    expect(status).toBe(400);
    await waitFor(
      () => linesWith(a, 'refused connection on the cluster port') === 1,
      'the refusal to be logged',
    );
    expect(a.logs.find((l) => l.details?.reason === 'BROWSER_ORIGIN')?.details?.detail).toBe(
      'origin http://evil.example',
    );
  });

  it('holds 16 connections per address that have not authenticated, and closes them at the deadline', async () => {
    const a = await startNode('n1', { handshakeTimeoutMs: 1_500 });
    nodes = [a];
    const port = a.port;
    const sockets: NetSocket[] = [];
    let closedCount = 0;
    for (let i = 0; i < 20; i++) {
      const socket = tcpConnect(port, '127.0.0.1');
      socket.on('error', () => undefined);
      socket.on('close', () => (closedCount += 1));
      sockets.push(socket);
      cleanups.push(() => socket.destroy());
    }
    await waitFor(() => closedCount === 4, 'the four connections over the limit to be closed');
    expect(a.transport.pendingConnections()).toBe(16);
    await waitFor(() => closedCount === 20, 'the silent connections to be closed at the deadline', 5_000);
    expect(a.transport.pendingConnections()).toBe(0);
    expect(a.logs.filter((l) => l.details?.reason === 'TOO_MANY_PENDING')).toHaveLength(1);

    // The port still serves a peer that proves itself.
    const raw = await RawPeer.certified('n2', a);
    cleanups.push(() => raw.close());
    await raw.waitConnected();
  });
});

describe('a connection its namespace admitted', () => {
  it('sends frames far above the limit of strangers', async () => {
    const a = await startNode('n1');
    nodes = [a];
    const raw = await RawPeer.certified('n2', a);
    cleanups.push(() => raw.close());
    await raw.waitConnected();
    const big = firstAppend('n2', 'n1', Buffer.alloc(2 * 1024 * 1024, 9));
    raw.socket.emit('raft', [big]);
    await waitFor(() => a.received.length === 1, 'the 2 MiB append to be delivered');
    expect(raw.disconnected).toBe(false);
    expect(a.transport.pendingConnections()).toBe(0);
  });

  it('a refused handshake closes the connection: one attempt per connection', async () => {
    const a = await startNode('n1');
    nodes = [a];
    const raw = new RawPeer('n2', a, { tls: 'none' });
    cleanups.push(() => raw.close());
    await waitFor(() => raw.connectError !== undefined, 'the refusal');
    expect(raw.connectError).toBe('NO_CERTIFICATE');
    await waitFor(() => a.transport.pendingConnections() === 0, 'the refused connection to be closed');
  });
});
