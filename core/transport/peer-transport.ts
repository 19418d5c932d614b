/**
 * createPeerTransport: Raft messages and cluster requests between controller nodes over socket.io
 * with msgpack frames, on mutual TLS 1.3. We send to a peer only over our own client connection to
 * it (peer-link.ts) and receive only on our listener's `/raft` namespace (inbound.ts); both ends'
 * certificates are checked (handshake.ts) before a single frame is accepted.
 */
import pino from 'pino';
import type { Message, NodeId } from '../raft/types.js';
import { estimateMessageBytes } from './codec.js';
import { countRefusal, newCounters, type Log } from './counters.js';
import { Delays } from './delays.js';
import { TransportError } from './errors.js';
import { FaultTable } from './faults.js';
import { createFrameParser } from './frame-parser.js';
import { InboundPeers } from './inbound.js';
import { openClusterListener, type ClusterListener } from './listener.js';
import { PeerLink, type LinkContext } from './peer-link.js';
import { RefusalLog } from './refusal-log.js';
import type {
  FaultPlan,
  PeerState,
  PeerTransport,
  RequestHandler,
  TransportOptions,
  TransportStats,
} from './types.js';

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
  const log: Log = options.log ?? pino({ level: 'silent' });
  const random = options.random ?? Math.random;
  const counters = newCounters();
  const refusals = new RefusalLog(log);
  const faults = new FaultTable(random);
  const delays = new Delays();
  const handlers = new Map<string, RequestHandler>();
  const links = new Map<NodeId, PeerLink>();
  const dirty = new Set<PeerLink>();
  const parser = createFrameParser((error) => {
    counters.malformed += 1;
    log.warn({ err: String(error) }, 'dropped a frame that does not decode');
  });
  const handshakeTimeoutMs = options.handshakeTimeoutMs ?? DEFAULTS.handshakeTimeoutMs;
  const maxFrameBytes = options.maxFrameBytes ?? DEFAULTS.maxFrameBytes;
  let advertised: string | undefined;
  const linkContext: LinkContext = {
    advertise: () => advertised,
    self: options.nodeId,
    auth: options.authenticator,
    parser,
    counters,
    log,
    refusals,
    random,
    reconnectMinMs: options.reconnectMinMs ?? DEFAULTS.reconnectMinMs,
    reconnectMaxMs: options.reconnectMaxMs ?? DEFAULTS.reconnectMaxMs,
    handshakeTimeoutMs,
    pingIntervalMs: options.pingIntervalMs ?? DEFAULTS.pingIntervalMs,
    maxFrameBytes,
    maxBufferedBytes: options.maxBufferedBytes ?? DEFAULTS.maxBufferedBytes,
    maxQueuedBytes: options.maxQueuedBytes ?? DEFAULTS.maxQueuedBytes,
    plaintext: options.benchmarkPlaintext === true,
  };
  let messageHandler: ((message: Message) => void) | undefined;
  let listener: ClusterListener | undefined;
  let inbound: InboundPeers | undefined;
  let flushScheduled: NodeJS.Immediate | undefined;
  let closed = false;

  function deliver(messages: readonly Message[]): void {
    if (!messageHandler) {
      counters.dropped += messages.length;
      return;
    }
    for (const message of messages) {
      counters.received += 1;
      try {
        messageHandler(message);
      } catch (err) {
        log.error(
          {
            type: message.type,
            from: message.from,
            err: String(err),
          },
          'raft message handler threw',
        );
      }
    }
  }

  /** One frame per peer and turn: everything queued in this turn leaves together. */
  function scheduleFlush(link: PeerLink): void {
    dirty.add(link);
    flushScheduled ??= setImmediate(() => {
      flushScheduled = undefined;
      for (const l of dirty) l.flush();
      dirty.clear();
    });
  }

  function enqueue(link: PeerLink, message: Message): void {
    if (link.enqueue(message, estimateMessageBytes(message))) scheduleFlush(link);
  }

  return {
    async start() {
      if (closed) throw new TransportError('CLOSED', 'the transport was closed');
      if (listener) return { port: listener.port };
      listener = await openClusterListener({
        host: options.listen.host,
        port: options.listen.port,
        tls: options.benchmarkPlaintext ? undefined : options.authenticator.tls(),
        onTlsError: (err, socket) => {
          // Plain HTTP (or anything not TLS) on the cluster port; other TLS failures are not ours to count.
          const notTls = err.code === 'ERR_SSL_HTTP_REQUEST' || err.code === 'ERR_SSL_WRONG_VERSION_NUMBER';
          if (notTls) countRefusal(counters, 'NOT_TLS');
          const address = socket.remoteAddress ?? 'unknown';
          refusals.refused(
            address,
            { reason: notTls ? 'NOT_TLS' : 'TLS_FAILED', detail: err.code ?? err.message, address },
            'refused connection on the cluster port',
          );
        },
        parser,
        maxFrameBytes,
        connectTimeoutMs: handshakeTimeoutMs,
      });
      if (closed) {
        await listener.close();
        throw new TransportError('CLOSED', 'the transport was closed');
      }
      inbound = new InboundPeers(listener.io.of('/raft'), {
        self: options.nodeId,
        auth: options.authenticator,
        plaintext: options.benchmarkPlaintext === true,
        counters,
        refusals,
        log,
        faults,
        handlers,
        deliver,
        // A peer that dials us and that we cannot dial yet (a node joining a cluster knows none of
        // its members) becomes reachable at the address it says, so that we can answer it. An
        // address we already have (from the membership) is kept.
        onPeerAddress: (peer, address) => {
          if (!closed && !links.has(peer) && peer !== options.nodeId) {
            links.set(peer, new PeerLink(peer, address, linkContext));
          }
        },
      });
      return { port: listener.port };
    },

    setAdvertise(address) {
      advertised = address;
    },

    addPeer(id, address) {
      if (closed || id === options.nodeId) return;
      const link = links.get(id);
      if (link) link.setAddress(address);
      else links.set(id, new PeerLink(id, address, linkContext));
    },

    removePeer(id) {
      const link = links.get(id);
      if (!link) return;
      links.delete(id);
      dirty.delete(link);
      link.close();
    },

    send(messages) {
      let delayed: Map<PeerLink, Message[]> | undefined;
      for (const message of messages) {
        const link = links.get(message.to);
        if (closed || !link || faults.dropsOutgoing(message.to)) {
          counters.dropped += 1;
          continue;
        }
        if (faults.delayMs(message.to) > 0) {
          delayed ??= new Map();
          const list = delayed.get(link);
          if (list) list.push(message);
          else delayed.set(link, [message]);
          continue;
        }
        enqueue(link, message);
      }
      for (const [link, list] of delayed ?? []) {
        delays.after(faults.delayMs(link.id)).then(
          () => {
            // The peer may have been removed (or replaced) meanwhile.
            if (links.get(link.id) === link) for (const m of list) enqueue(link, m);
            else counters.dropped += list.length;
          },
          () => (counters.dropped += list.length),
        );
      }
    },

    onMessage(handler) {
      messageHandler = handler;
    },

    async request(to, method, payload, timeoutMs) {
      if (closed) throw new TransportError('CLOSED', 'the transport was closed');
      const link = links.get(to);
      if (!link) throw new TransportError('UNREACHABLE', `unknown peer ${to}`);
      if (faults.isCut(to)) throw new TransportError('UNREACHABLE', `peer ${to} is cut off`);
      if (faults.dropsOutgoing(to)) {
        // Lost on the way: the caller learns it the way it would across a real network.
        await delays.after(timeoutMs);
        throw new TransportError('TIMEOUT', `request ${method} to ${to} timed out`);
      }
      const delay = faults.delayMs(to);
      if (delay > 0) await delays.after(delay);
      return link.request(method, payload, timeoutMs);
    },

    handle(method, handler) {
      handlers.set(method, handler);
    },

    peers(): PeerState[] {
      return [...links.values()].map((link) => {
        const cut = faults.isCut(link.id);
        return {
          id: link.id,
          address: link.address,
          connected: link.connected && !cut,
          rttMs: link.rttMs,
          inbound: inbound?.has(link.id) ?? false,
          cut,
          bufferedBytes: link.bufferedBytes,
        };
      });
    },

    setFaults(peer: NodeId, plan: FaultPlan | undefined) {
      faults.set(peer, plan);
    },

    stats(): TransportStats {
      let queued = 0;
      for (const link of links.values()) queued += link.queuedMessages;
      return { ...counters, refusals: { ...counters.refusals }, queued };
    },

    reloadCredentials() {
      listener?.reload(options.authenticator.tls());
    },

    namespace(name) {
      if (!listener) throw new TransportError('CLOSED', 'the transport has not started');
      if (name === '/raft' || name === '/') throw new Error(`namespace ${name} is the transport's own`);
      return listener.io.of(name);
    },

    async close() {
      if (closed) return;
      closed = true;
      if (flushScheduled) clearImmediate(flushScheduled);
      flushScheduled = undefined;
      dirty.clear();
      delays.clear();
      for (const link of links.values()) link.close();
      links.clear();
      await listener?.close();
    },
  };
}
