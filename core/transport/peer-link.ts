/**
 * The connection we keep to one peer: our socket.io client to its cluster listener over TLS 1.3,
 * the only way we send to it. We present our certificate, and accept the peer's only if it chains
 * to the cluster CA and names the peer we dial (by SPIFFE id, not by host: addresses change). Each
 * attempt is a fresh socket; when the handshake fails or the connection drops, the socket is
 * discarded and the next attempt waits a capped, jittered back-off.
 *
 * Nothing is buffered while the peer is not connected: Raft messages to it are dropped and counted
 * (Raft retries on its own), and socket.io-client's offline buffer is never used. Within a turn,
 * messages queue up (bounded in bytes) and leave as one frame (or a few, if they are large).
 */
import type { PeerCertificate } from 'node:tls';
import { io, type Socket } from 'socket.io-client';
import type { Message, NodeId } from '../raft/types.js';
import { Backoff } from './backoff.js';
import { encodeFrame, toWireValue } from './codec.js';
import { countRefusal, type Counters, type Log } from './counters.js';
import { PING_EVENT, RAFT_EVENT, REQUEST_EVENT } from './events.js';
import type { FrameParser } from './frame-parser.js';
import { TransportError } from './errors.js';
import { issuerFingerprint, RETIRED_ISSUER } from './cert-auth.js';
import {
  checkServer,
  clientHandshake,
  isLocalRefusal,
  makeHello,
  type HandshakeResult,
  type ServerRefusal,
} from './handshake.js';
import type { RefusalLog } from './refusal-log.js';
import { ackFailure, readReply } from './requests.js';
import type { PeerAuthenticator } from './types.js';

export interface LinkContext {
  readonly self: NodeId;
  readonly auth: PeerAuthenticator;
  readonly parser: FrameParser;
  readonly counters: Counters;
  readonly log: Log;
  readonly refusals: RefusalLog;
  readonly random: () => number;
  readonly reconnectMinMs: number;
  readonly reconnectMaxMs: number;
  readonly handshakeTimeoutMs: number;
  readonly pingIntervalMs: number;
  readonly maxFrameBytes: number;
  readonly maxBufferedBytes: number;
  readonly maxQueuedBytes: number;
  /** Benchmarks only: plain websocket (TransportOptions.benchmarkPlaintext). */
  readonly plaintext: boolean;
  /** This node's advertised cluster address, sent in the hello (set once the listener is up). */
  readonly advertise: () => string | undefined;
}

/** A connection `refresh` opened: it replaces the current one once its handshake completes. */
interface Successor {
  readonly socket: Socket;
  readonly abort: AbortController;
  /** The current connection's certificate is no longer good: if this one fails, it closes anyway. */
  mustGo: boolean;
  /** Why a refresh was asked again while this one was on its way (it then runs once more). */
  again?: string;
}

export class PeerLink {
  private socket: Socket | undefined;
  private abortHandshake: AbortController | undefined;
  private ready = false;
  /** The server's certificate as each connection saw it (its serial and its issuer's fingerprint). */
  private readonly servers = new WeakMap<Socket, { serial?: string; issuer?: string }>();
  private successor: Successor | undefined;
  /** Replaced connections, closed once the requests sent on them are answered. */
  private readonly draining = new Set<Socket>();
  private readonly inFlight = new Map<Socket, number>();
  private closed = false;
  /** Set after a failure is logged, so that a peer that stays down is logged once, not per attempt. */
  private unreachableLogged = false;
  private readonly backoff: Backoff;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private queue: Message[] = [];
  private queueSizes: number[] = [];
  private queuedBytes = 0;
  rttMs: number | undefined;

  constructor(
    readonly id: NodeId,
    private addr: string,
    private readonly ctx: LinkContext,
  ) {
    this.backoff = new Backoff(ctx.reconnectMinMs, ctx.reconnectMaxMs, ctx.random);
    this.connect();
  }

  get address(): string {
    return this.addr;
  }

  /** Handshake completed and the socket is up: messages to the peer are sent, not dropped. */
  get connected(): boolean {
    return this.ready;
  }

  get queuedMessages(): number {
    return this.queue.length;
  }

  /** Bytes handed to the websocket that the peer has not taken yet (kernel buffers included). */
  get bufferedBytes(): number {
    const engine = this.socket?.io.engine as unknown as
      { transport?: { ws?: { bufferedAmount?: unknown } } } | undefined;
    const amount = engine?.transport?.ws?.bufferedAmount;
    return typeof amount === 'number' ? amount : 0;
  }

  /** A new address: drop the current connection and dial the new one now. */
  setAddress(address: string): void {
    if (address === this.addr || this.closed) return;
    this.addr = address;
    this.teardown();
    this.backoff.reset();
    this.connect();
  }

  /** Queues a message for this turn's frame; false if it was dropped (counted). */
  enqueue(message: Message, bytes: number): boolean {
    if (!this.ready || bytes > this.ctx.maxFrameBytes || this.queuedBytes + bytes > this.ctx.maxQueuedBytes) {
      if (this.ready && bytes > this.ctx.maxFrameBytes) {
        this.ctx.log.warn(
          {
            peer: this.id,
            type: message.type,
            bytes,
          },
          'dropped a raft message larger than a frame',
        );
      }
      this.ctx.counters.dropped += 1;
      return false;
    }
    this.queue.push(message);
    this.queueSizes.push(bytes);
    this.queuedBytes += bytes;
    return true;
  }

  /** Sends what was queued this turn: one frame, split only where it would exceed maxFrameBytes. */
  flush(): void {
    const batch = this.queue;
    const sizes = this.queueSizes;
    if (batch.length === 0) return;
    this.queue = [];
    this.queueSizes = [];
    this.queuedBytes = 0;
    const socket = this.socket;
    // Back-pressure: a peer that does not keep up loses messages rather than growing our memory.
    if (!this.ready || !socket?.connected || this.bufferedBytes > this.ctx.maxBufferedBytes) {
      this.ctx.counters.dropped += batch.length;
      return;
    }
    let start = 0;
    let bytes = 0;
    for (let i = 0; i <= batch.length; i++) {
      const size = sizes[i] ?? 0;
      if (i === batch.length || (i > start && bytes + size > this.ctx.maxFrameBytes)) {
        this.emitFrame(socket, batch.slice(start, i));
        start = i;
        bytes = 0;
      }
      bytes += size;
    }
  }

  async request(method: string, payload: unknown, timeoutMs: number): Promise<unknown> {
    const socket = this.socket;
    if (!this.ready || !socket?.connected) {
      throw new TransportError('UNREACHABLE', `peer ${this.id} is not connected`);
    }
    let reply: unknown;
    this.inFlight.set(socket, (this.inFlight.get(socket) ?? 0) + 1);
    try {
      reply = await socket.timeout(timeoutMs).emitWithAck(REQUEST_EVENT, method, toWireValue(payload));
    } catch (err) {
      throw ackFailure(err, this.id, method);
    } finally {
      this.settled(socket);
    }
    return readReply(reply, this.id);
  }

  /**
   * Make before break: dials again on the credentials as they are now (after a renewal, ours or
   * the peer's), and once that connection is up it takes over; the one it replaces closes when
   * the requests sent on it are answered, so nothing in flight breaks. A failed attempt keeps the
   * current connection, unless it `mustGo` (its certificate is no longer good): then it closes,
   * and the link redials as after any failure.
   */
  refresh(why: string, mustGo = false): void {
    if (this.closed || !this.ready) return;
    if (this.successor) {
      // Asked again while one is on its way (which may have seen the certificates as they were
      // before this ask): once it is up, refresh once more.
      this.successor.mustGo ||= mustGo;
      this.successor.again = why;
      return;
    }
    const { socket, abort, handshake } = this.open();
    const successor: Successor = { socket, abort, mustGo };
    this.successor = successor;
    void handshake.then((result) => {
      if (this.successor !== successor) return; // torn down meanwhile
      this.successor = undefined;
      const previous = this.socket;
      if (!result.ok || !this.ready || !previous) {
        discard(socket);
        if (!result.ok) {
          const { failure, detail } = result;
          this.ctx.log.warn({ peer: this.id, why, failure, detail }, 'could not refresh the peer connection');
          if (isLocalRefusal(failure)) countRefusal(this.ctx.counters, failure);
          if (successor.mustGo && this.ready) this.replaceCurrent();
        }
        return;
      }
      clearInterval(this.pingTimer);
      this.socket = socket;
      this.established(socket);
      this.drain(previous);
      this.ctx.log.info({ peer: this.id, why }, 'refreshed the peer connection');
      if (successor.again !== undefined) this.refresh(successor.again);
    });
  }

  /**
   * Refreshes the connection when the server's certificate on it is no longer good (its issuer
   * was retired by a finished CA rotation); whether it did.
   */
  refreshIfIssuerRetired(): boolean {
    if (!this.ready || this.ctx.plaintext || !this.socket) return false;
    if (this.ctx.auth.issuerTrusted?.(this.servers.get(this.socket)?.issuer) !== false) return false;
    this.refresh(RETIRED_ISSUER, true);
    return true;
  }

  /** Refreshes the connection when the server renewed since it opened (its certificate is `serial`). */
  refreshIfServerRenewed(serial: string): void {
    if (!this.ready || this.ctx.plaintext || !this.socket) return;
    if (this.servers.get(this.socket)?.serial !== serial.toUpperCase()) this.refresh('the peer renewed');
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    this.teardown();
    for (const socket of this.draining) discard(socket);
    this.draining.clear();
  }

  /**
   * The current connection must go and no successor could be made: it is drained like a replaced
   * one (its requests in flight are answered), and the link redials as after a failure.
   */
  private replaceCurrent(): void {
    const socket = this.socket;
    this.socket = undefined;
    this.retry();
    if (socket) this.drain(socket);
  }

  /** A request on `socket` was answered (or failed): a replaced socket closes after its last. */
  private settled(socket: Socket): void {
    const left = (this.inFlight.get(socket) ?? 1) - 1;
    if (left > 0) return void this.inFlight.set(socket, left);
    this.inFlight.delete(socket);
    if (this.draining.delete(socket)) discard(socket);
  }

  private drain(socket: Socket): void {
    if ((this.inFlight.get(socket) ?? 0) === 0) discard(socket);
    else this.draining.add(socket);
  }

  private emitFrame(socket: Socket, messages: Message[]): void {
    try {
      socket.emit(RAFT_EVENT, encodeFrame(messages));
    } catch (err) {
      this.ctx.counters.dropped += messages.length;
      this.ctx.log.error({ peer: this.id, err: String(err) }, 'could not encode a raft frame');
      return;
    }
    this.ctx.counters.framesSent += 1;
    this.ctx.counters.sent += messages.length;
  }

  private connect(): void {
    this.reconnectTimer = undefined;
    if (this.closed) return;
    const { socket, abort, handshake } = this.open();
    this.socket = socket;
    this.abortHandshake = abort;
    void handshake.then((result) => this.onHandshake(socket, result));
  }

  /** A new connection to the peer and its handshake (which resolves, never rejects). */
  private open(): { socket: Socket; abort: AbortController; handshake: Promise<HandshakeResult> } {
    const hello = makeHello(this.ctx.auth.clusterId, this.ctx.self, this.id, this.ctx.advertise());
    let refusal: ServerRefusal | undefined;
    let server: { serial?: string; issuer?: string } = {};
    const checkServerIdentity = (_host: string, cert: PeerCertificate): Error | undefined => {
      refusal = checkServer(this.ctx.auth, cert, this.id);
      if (refusal) return new Error(refusal.detail);
      const issuer = issuerFingerprint(cert);
      server = { serial: cert.serialNumber.toUpperCase(), ...(issuer ? { issuer } : {}) };
      return undefined;
    };
    const tls = this.ctx.plaintext ? {} : this.tlsOptions(checkServerIdentity);
    const socket = io(raftUrl(this.addr, this.ctx.plaintext), {
      transports: ['websocket'],
      forceNew: true,
      // Reconnection is ours (a fresh socket per attempt, one back-off for every failure).
      reconnection: false,
      timeout: this.ctx.handshakeTimeoutMs,
      parser: this.ctx.parser,
      auth: (cb) => cb(hello),
      ...tls,
    });
    const abort = new AbortController();
    const handshake = clientHandshake(
      socket,
      this.id,
      () => refusal,
      this.ctx.handshakeTimeoutMs,
      abort.signal,
    );
    return {
      socket,
      abort,
      handshake: handshake.then((result) => {
        if (result.ok) this.servers.set(socket, server);
        return result;
      }),
    };
  }

  /** Our certificate, the root we trust, and the check that the server is the peer we dial. */
  private tlsOptions(checkServerIdentity: (host: string, cert: PeerCertificate) => Error | undefined) {
    const tls = this.ctx.auth.tls();
    return {
      key: tls.key,
      cert: tls.cert,
      ca: tls.ca,
      rejectUnauthorized: true,
      // Passed through to the TLS connection by engine.io-client; not in socket.io-client's types.
      // (TLS 1.3 is the listener's minimum, so it is what every connection speaks.)
      ...{ checkServerIdentity },
    };
  }

  private onHandshake(socket: Socket, result: HandshakeResult): void {
    if (socket !== this.socket || this.closed) return;
    this.abortHandshake = undefined;
    if (!result.ok) {
      const details = { peer: this.id, address: this.addr, reason: result.failure, detail: result.detail };
      if (isLocalRefusal(result.failure)) {
        countRefusal(this.ctx.counters, result.failure);
        this.ctx.refusals.refused(`dialled ${this.id}`, details, 'refused peer handshake');
      } else if (result.failure === 'REFUSED_BY_PEER') {
        this.ctx.log.warn(details, 'peer refused our handshake');
      } else if (!this.unreachableLogged) {
        this.ctx.log.info(details, 'peer unreachable; retrying');
      }
      this.unreachableLogged = true;
      this.retry();
      return;
    }
    this.unreachableLogged = false;
    this.backoff.reset();
    this.ctx.log.info({ peer: this.id, address: this.addr }, 'connected to peer');
    this.established(socket);
  }

  /** `socket` is the connection now: messages go on it, and losing it means redialling. */
  private established(socket: Socket): void {
    this.ready = true;
    socket.on('disconnect', (reason) => {
      if (socket !== this.socket) return;
      this.ctx.log.info({ peer: this.id, reason }, 'lost connection to peer');
      this.retry();
    });
    this.startPing(socket);
  }

  private startPing(socket: Socket): void {
    const ping = (): void => {
      const started = performance.now();
      socket
        .timeout(this.ctx.pingIntervalMs)
        .emitWithAck(PING_EVENT)
        .then(
          () => {
            if (socket === this.socket) this.rttMs = performance.now() - started;
          },
          () => undefined,
        );
    };
    ping();
    this.pingTimer = setInterval(ping, this.ctx.pingIntervalMs);
  }

  private retry(): void {
    this.teardown();
    if (this.closed) return;
    this.reconnectTimer = setTimeout(() => this.connect(), this.backoff.next());
  }

  /** Discards the current socket and everything queued for it. */
  private teardown(): void {
    this.ready = false;
    this.rttMs = undefined;
    clearInterval(this.pingTimer);
    this.pingTimer = undefined;
    this.abortHandshake?.abort();
    this.abortHandshake = undefined;
    if (this.successor) {
      this.successor.abort.abort();
      discard(this.successor.socket);
      this.successor = undefined;
    }
    this.ctx.counters.dropped += this.queue.length;
    this.queue = [];
    this.queueSizes = [];
    this.queuedBytes = 0;
    const socket = this.socket;
    this.socket = undefined;
    if (socket) discard(socket);
  }
}

/** Closes a socket with nothing more sent on it, and no more of its events heard. */
function discard(socket: Socket): void {
  socket.removeAllListeners();
  socket.sendBuffer.length = 0;
  socket.disconnect();
}

/** `host:port` (or a URL) of a peer's cluster listener → its `/raft` namespace URL. */
export function raftUrl(address: string, plaintext = false): string {
  const scheme = plaintext ? 'http' : 'https';
  const base = /^[a-z]+:\/\//i.test(address) ? address.replace(/\/+$/, '') : `${scheme}://${address}`;
  return `${base}/raft`;
}
