/**
 * Peer transports on 127.0.0.1 for tests: start a few, wire them to each other, collect what they
 * receive and log. Each node holds a certificate from its cluster's test CA (test-pki.ts). Also a
 * hand-driven socket.io peer (`RawPeer`) that speaks the wire protocol step by step, with
 * whatever certificate it is given, so that tests can misbehave at any point of it.
 */
import type { PeerCertificate } from 'node:tls';
import msgpackParser from 'socket.io-msgpack-parser';
import { io, type Socket } from 'socket.io-client';
import type { Message, NodeId } from '../../core/raft/types.js';
import { createCertificateAuthenticator } from '../../core/transport/cert-auth.js';
import { HANDSHAKE_VERSION } from '../../core/transport/handshake.js';
import { createPeerTransport } from '../../core/transport/peer-transport.js';
import type { PeerTls, PeerTransport, TransportOptions } from '../../core/transport/types.js';
import { collectingLogger, type LogLine } from './log-lines.js';
import { testTls } from './test-pki.js';
import { waitFor } from './wait.js';

export const CLUSTER = 'c-test';

export interface TestNode {
  readonly id: NodeId;
  readonly transport: PeerTransport;
  readonly port: number;
  readonly address: string;
  readonly received: Message[];
  readonly logs: LogLine[];
}

export interface NodeSettings extends Partial<Omit<TransportOptions, 'nodeId' | 'authenticator' | 'listen'>> {
  readonly clusterId?: string;
  /**
   * The node's credentials (default: a certificate for it from its cluster's test CA); a function
   * is read for every connection, as a renewing node's are.
   */
  readonly tls?: PeerTls | (() => PeerTls);
  readonly port?: number;
  /** Which intermediates' certificates are good (default: whatever TLS verified). */
  readonly issuerTrusted?: (fingerprint: string | undefined) => boolean;
}

/** Fast reconnects and pings, so that tests wait for little. */
const FAST: Partial<TransportOptions> = {
  reconnectMinMs: 20,
  reconnectMaxMs: 200,
  handshakeTimeoutMs: 2_000,
  pingIntervalMs: 200,
};

export async function startNode(id: NodeId, settings: NodeSettings = {}): Promise<TestNode> {
  const { clusterId = CLUSTER, port = 0, issuerTrusted, ...rest } = settings;
  const given = settings.tls ?? (await testTls(clusterId, id));
  const tls = typeof given === 'function' ? given : () => given;
  const logs: LogLine[] = [];
  const received: Message[] = [];
  const transport = createPeerTransport({
    ...FAST,
    ...rest,
    nodeId: id,
    authenticator: createCertificateAuthenticator({
      clusterId,
      tls,
      ...(issuerTrusted ? { issuerTrusted } : {}),
    }),
    listen: { host: '127.0.0.1', port },
    log: collectingLogger(logs),
  });
  transport.onMessage((m) => received.push(m));
  const started = await transport.start();
  return { id, transport, port: started.port, address: `127.0.0.1:${started.port}`, received, logs };
}

/** Every node knows every other one. */
export function connectAll(nodes: readonly TestNode[]): void {
  for (const a of nodes) for (const b of nodes) if (a !== b) a.transport.addPeer(b.id, b.address);
}

export async function waitConnected(nodes: readonly TestNode[], timeoutMs = 5_000): Promise<void> {
  await waitFor(
    () => nodes.every((n) => n.transport.peers().every((p) => p.connected)),
    'every transport connected to all its peers',
    timeoutMs,
  );
}

export async function startMesh(ids: readonly NodeId[], settings: NodeSettings = {}): Promise<TestNode[]> {
  const nodes = await Promise.all(ids.map((id) => startNode(id, settings)));
  connectAll(nodes);
  await waitConnected(nodes);
  return nodes;
}

export async function closeAll(nodes: readonly (TestNode | undefined)[]): Promise<void> {
  await Promise.all(nodes.map((n) => n?.transport.close()));
}

/** One message of every type, with bytes where the type has them. */
export function everyMessage(from: NodeId, to: NodeId): Message[] {
  const base = { from, to, term: 7 };
  const bytes = (n: number, seed: number): Uint8Array =>
    Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 255);
  const conf = { voters: ['n1', 'n2', 'n3'], learners: ['n4'], context: { n1: '{"address":"127.0.0.1:1"}' } };
  return [
    {
      ...base,
      type: 'append',
      index: 41,
      logTerm: 6,
      commit: 40,
      entries: [
        { term: 7, index: 42, type: 'normal', data: bytes(300, 1) },
        { term: 7, index: 43, type: 'confChange', data: bytes(20, 2) },
        { term: 7, index: 44, type: 'normal', data: new Uint8Array() },
      ],
    },
    { ...base, type: 'appendResponse', index: 44, reject: false, hintIndex: 0, hintTerm: 0 },
    { ...base, type: 'appendResponse', index: 41, reject: true, hintIndex: 30, hintTerm: 5 },
    { ...base, type: 'heartbeat', commit: 44 },
    { ...base, type: 'heartbeat', commit: 44, context: 'read-1' },
    { ...base, type: 'heartbeatResponse', context: 'read-1' },
    { ...base, type: 'heartbeatResponse' },
    { ...base, type: 'vote', index: 44, logTerm: 7 },
    { ...base, type: 'preVote', index: 44, logTerm: 7, transfer: true },
    { ...base, type: 'voteResponse', reject: false },
    { ...base, type: 'preVoteResponse', reject: true },
    {
      ...base,
      type: 'snapshot',
      meta: { index: 40, term: 6, conf },
      offset: 4096,
      total: 10_000,
      data: bytes(4096, 3),
    },
    {
      ...base,
      type: 'snapshot',
      meta: { index: 40, term: 6, conf: { voters: ['n1'], learners: [] } },
      offset: 0,
      total: 0,
      data: new Uint8Array(),
    },
    { ...base, type: 'snapshotResponse', index: 40, received: 8192 },
    { ...base, type: 'timeoutNow' },
    { ...base, type: 'readIndex', context: 'ctx-9' },
    { ...base, type: 'readIndexResponse', context: 'ctx-9', index: 44 },
  ];
}

/** The first append a leader sends: one entry carrying `data`. */
export function firstAppend(from: NodeId, to: NodeId, data: Uint8Array): Message {
  return {
    type: 'append',
    from,
    to,
    term: 1,
    index: 0,
    logTerm: 0,
    commit: 0,
    entries: [{ term: 1, index: 1, type: 'normal', data }],
  };
}

export function heartbeat(from: NodeId, to: NodeId, commit: number): Message {
  return { type: 'heartbeat', from, to, term: 1, commit };
}

/**
 * A peer driven by hand: connects over TLS to a transport's `/raft` namespace as `id`, with the
 * credentials it is given (none: no client certificate), and can then emit anything at all.
 */
export class RawPeer {
  readonly socket: Socket;
  connectError: string | undefined;
  /** The serial number of the certificate the transport presented, once connected. */
  serverSerial: string | undefined;
  connected = false;
  disconnected = false;

  constructor(
    readonly id: NodeId,
    target: TestNode,
    options: {
      clusterId?: string;
      to?: NodeId;
      tls?: PeerTls | 'none';
      hello?: Record<string, unknown>;
    } = {},
  ) {
    const clusterId = options.clusterId ?? CLUSTER;
    const to = options.to ?? target.id;
    const tls = options.tls === 'none' ? {} : (options.tls ?? {});
    this.socket = io(`https://${target.address}/raft`, {
      transports: ['websocket'],
      forceNew: true,
      reconnection: false,
      parser: msgpackParser,
      auth: options.hello ?? { v: HANDSHAKE_VERSION, clusterId, from: id, to },
      ...tls,
      // The test peer does not check who answers: what it does is the subject, not the server.
      rejectUnauthorized: false,
      ...{
        checkServerIdentity: (_host: string, cert: PeerCertificate) => {
          this.serverSerial = cert.serialNumber;
          return undefined;
        },
      },
    });
    this.socket.on('connect', () => (this.connected = true));
    this.socket.on('connect_error', (err: Error & { data?: { code?: string } }) => {
      this.connectError = err.data?.code ?? err.message;
    });
    this.socket.on('disconnect', () => (this.disconnected = true));
  }

  /** A peer with a certificate for `id` from the test CA of `clusterId`. */
  static async certified(id: NodeId, target: TestNode, clusterId = CLUSTER): Promise<RawPeer> {
    return new RawPeer(id, target, { clusterId, tls: await testTls(clusterId, id) });
  }

  async waitConnected(): Promise<void> {
    await waitFor(() => this.connected, `${this.id} joined the transport's namespace`);
  }

  /** Sends raw bytes as one websocket message, below socket.io: a frame that is not msgpack at all. */
  sendRawBytes(bytes: Uint8Array): void {
    (this.socket.io.engine as unknown as { write(data: Uint8Array): void }).write(bytes);
  }

  close(): void {
    this.socket.disconnect();
  }
}
