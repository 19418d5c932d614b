/**
 * createPeerTransport: Raft messages and cluster requests between controller nodes over socket.io
 * with msgpack frames, on mutual TLS 1.3. We send to a peer only over our own client connection to
 * it (outbound.ts, peer-link.ts) and receive only on our listener's `/raft` namespace
 * (listener.ts, inbound.ts); both ends' certificates are checked (handshake.ts) before a single
 * frame is accepted. Injected faults wrap the whole (faulty-transport.ts).
 */
import type { Socket } from 'node:net';
import pino from 'pino';
import type { Message } from '../raft/types.js';
import { countRefusal, newCounters, type Counters, type Log } from './counters.js';
import { TransportError } from './errors.js';
import { withFaults, type FaultlessTransport } from './faulty-transport.js';
import { createGuardedFrameParser } from './frame-parser.js';
import { InboundPeers } from './inbound.js';
import { openClusterListener, type ClusterListener } from './listener.js';
import { OutboundLinks } from './outbound.js';
import type { LinkContext } from './peer-link.js';
import { RefusalLog } from './refusal-log.js';
import type { PeerState, PeerTransport, RequestHandler, TransportOptions, TransportStats } from './types.js';

const DEFAULTS = {
  reconnectMinMs: 100,
  reconnectMaxMs: 5_000,
  handshakeTimeoutMs: 5_000,
  pingIntervalMs: 3_000,
  maxFrameBytes: 64 * 1024 * 1024,
  maxBufferedBytes: 8 * 1024 * 1024,
  maxQueuedBytes: 16 * 1024 * 1024,
};

export function createPeerTransport(options: TransportOptions): PeerTransport {
  return withFaults(createTransport(options), options.random ?? Math.random);
}

function createTransport(options: TransportOptions): FaultlessTransport {
  const log: Log = options.log ?? pino({ level: 'silent' });
  const counters = newCounters();
  const refusals = new RefusalLog(log);
  const handlers = new Map<string, RequestHandler>();
  const parser = createGuardedFrameParser((error, decoder) => {
    counters.malformed += 1;
    const message = decoder.trusted
      ? 'dropped a frame that does not decode'
      : 'closed a connection that sent a frame that does not decode before authenticating';
    refusals.refused(
      decoder.address,
      { err: String(error).slice(0, 200), address: decoder.address },
      message,
    );
  });
  const plaintext = options.benchmarkPlaintext === true;
  const handshakeTimeoutMs = options.handshakeTimeoutMs ?? DEFAULTS.handshakeTimeoutMs;
  const maxFrameBytes = options.maxFrameBytes ?? DEFAULTS.maxFrameBytes;
  let advertised: string | undefined;
  const outbound = new OutboundLinks(
    {
      advertise: () => advertised,
      self: options.nodeId,
      auth: options.authenticator,
      parser,
      counters,
      log,
      refusals,
      random: options.random ?? Math.random,
      reconnectMinMs: options.reconnectMinMs ?? DEFAULTS.reconnectMinMs,
      reconnectMaxMs: options.reconnectMaxMs ?? DEFAULTS.reconnectMaxMs,
      handshakeTimeoutMs,
      pingIntervalMs: options.pingIntervalMs ?? DEFAULTS.pingIntervalMs,
      maxFrameBytes,
      maxBufferedBytes: options.maxBufferedBytes ?? DEFAULTS.maxBufferedBytes,
      maxQueuedBytes: options.maxQueuedBytes ?? DEFAULTS.maxQueuedBytes,
      plaintext,
    } satisfies LinkContext,
    counters,
  );
  let messageHandler: ((message: Message) => void) | undefined;
  let listener: ClusterListener | undefined;
  let inbound: InboundPeers | undefined;
  let closed = false;

  const deliver = (messages: readonly Message[]): void => deliverTo(messageHandler, messages, counters, log);

  /** A connection that failed TLS itself: plain HTTP is a refusal; other failures are not ours to count. */
  const onTlsError = (err: Error & { code?: string }, socket: Socket): void => {
    const notTls = err.code === 'ERR_SSL_HTTP_REQUEST' || err.code === 'ERR_SSL_WRONG_VERSION_NUMBER';
    if (notTls) countRefusal(counters, 'NOT_TLS');
    const address = socket.remoteAddress ?? 'unknown';
    const details = { reason: notTls ? 'NOT_TLS' : 'TLS_FAILED', detail: err.code ?? err.message, address };
    refusals.refused(address, details, 'refused connection on the cluster port');
  };

  return {
    async start() {
      if (closed) throw new TransportError('CLOSED', 'the transport was closed');
      if (listener) return { port: listener.port };
      listener = await openClusterListener({
        host: options.listen.host,
        port: options.listen.port,
        tls: plaintext ? undefined : options.authenticator.tls(),
        onTlsError,
        parser,
        maxFrameBytes,
        connectTimeoutMs: handshakeTimeoutMs,
        onRefused: (address, reason, detail) =>
          refusals.refused(address, { reason, detail, address }, 'refused connection on the cluster port'),
      });
      if (closed) {
        await listener.close();
        throw new TransportError('CLOSED', 'the transport was closed');
      }
      inbound = new InboundPeers(listener.io.of('/raft'), {
        self: options.nodeId,
        auth: options.authenticator,
        plaintext,
        counters,
        refusals,
        log,
        handlers,
        deliver,
        admit: (socket) => listener?.admit(socket),
        // A peer that dials us and that we cannot dial yet (a node joining a cluster knows none of
        // its members) becomes reachable at the address it says, so that we can answer it. An
        // address we already have (from the membership) is kept.
        onPeerAddress: (peer, address) => {
          if (!outbound.has(peer)) outbound.add(peer, address);
        },
      });
      return { port: listener.port };
    },

    setAdvertise(address) {
      advertised = address;
    },

    addPeer: (id, address) => outbound.add(id, address),
    removePeer: (id) => outbound.remove(id),
    send: (messages) => outbound.send(messages),
    request: (to, method, payload, timeoutMs) => outbound.request(to, method, payload, timeoutMs),

    onMessage(handler) {
      messageHandler = handler;
    },

    handle(method, handler) {
      handlers.set(method, handler);
    },

    peers(): PeerState[] {
      return outbound.all().map((link) => ({
        id: link.id,
        address: link.address,
        connected: link.connected,
        rttMs: link.rttMs,
        inbound: inbound?.has(link.id) ?? false,
        cut: false,
        bufferedBytes: link.bufferedBytes,
      }));
    },

    stats(): TransportStats {
      return { ...counters, refusals: { ...counters.refusals }, queued: outbound.queued() };
    },

    reloadCredentials() {
      listener?.reload(options.authenticator.tls());
      // Every connection we dialled moves onto the renewed certificate (make before break).
      for (const link of outbound.all()) link.refresh('this node renewed its certificate');
    },

    peerRenewed: (peer, serial) => outbound.get(peer)?.refreshIfServerRenewed(serial),

    admit(socket) {
      listener?.admit(socket);
    },

    disconnectInbound: (peer) => inbound?.disconnect(peer) ?? false,

    dropRetiredIssuers() {
      const dialled = outbound.all().filter((link) => link.refreshIfIssuerRetired());
      return [...new Set([...(inbound?.disconnectRetiredIssuers() ?? []), ...dialled.map((l) => l.id)])];
    },

    pendingConnections: () => listener?.pendingCount() ?? 0,

    namespace(name) {
      if (!listener) throw new TransportError('CLOSED', 'the transport has not started');
      if (name === '/raft' || name === '/') throw new Error(`namespace ${name} is the transport's own`);
      return listener.io.of(name);
    },

    async close() {
      if (closed) return;
      closed = true;
      outbound.close();
      await listener?.close();
      refusals.close();
    },
  };
}

/** Hands each received message to the replica's handler; one that throws is logged, not fatal. */
function deliverTo(
  handler: ((message: Message) => void) | undefined,
  messages: readonly Message[],
  counters: Counters,
  log: Log,
): void {
  if (!handler) {
    counters.dropped += messages.length;
    return;
  }
  for (const message of messages) {
    counters.received += 1;
    try {
      handler(message);
    } catch (err) {
      log.error({ type: message.type, from: message.from, err: String(err) }, 'raft message handler threw');
    }
  }
}
