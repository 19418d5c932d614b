/**
 * The server side of the `/raft` namespace: peers connect here to send us Raft frames and cluster
 * requests. A connection joins only if its client certificate and hello pass (handshake.ts), so
 * every socket here speaks for the peer its certificate names. Every frame is validated
 * (codec.ts) and what fails is counted and dropped.
 */
import type { TLSSocket } from 'node:tls';
import type { Namespace, Socket } from 'socket.io';
import type { Message, NodeId } from '../raft/types.js';
import { closeAfterRefusal } from './admission.js';
import { issuerFingerprint } from './cert-auth.js';
import { decodeFrame } from './codec.js';
import { countRefusal, type Counters, type Log } from './counters.js';
import { PING_EVENT, RAFT_EVENT, REQUEST_EVENT } from './events.js';
import { checkHello, type Hello } from './handshake.js';
import type { RefusalLog } from './refusal-log.js';
import { answerRequest, transportFailure, type Reply } from './requests.js';
import type { PeerAuthenticator, RefusalReason, RequestHandler } from './types.js';

export interface InboundContext {
  /** An authenticated peer said where it listens (its hello's address). */
  readonly onPeerAddress?: (peer: NodeId, address: string) => void;
  readonly self: NodeId;
  readonly auth: PeerAuthenticator;
  /** Benchmarks only: no TLS, the hello names the peer (TransportOptions.benchmarkPlaintext). */
  readonly plaintext: boolean;
  readonly counters: Counters;
  readonly refusals: RefusalLog;
  readonly log: Log;
  readonly handlers: ReadonlyMap<string, RequestHandler>;
  deliver(messages: readonly Message[]): void;
  /** The connection authenticated: lift the limits of strangers (admission.ts). */
  admit(socket: Socket): void;
}

const KNOWN_EVENTS: ReadonlySet<string> = new Set([RAFT_EVENT, REQUEST_EVENT, PING_EVENT]);

export class InboundPeers {
  /** Authenticated connections by peer: more than one while a restarted peer's old one lingers. */
  private readonly sessions = new Map<NodeId, Set<Socket>>();
  private readonly hellos = new WeakMap<Socket, Hello>();
  /** Requests each connection sent that are not answered yet. */
  private readonly answering = new WeakMap<Socket, number>();
  /** Connections to close once their requests are answered. */
  private readonly closing = new WeakSet<Socket>();

  constructor(
    nsp: Namespace,
    private readonly ctx: InboundContext,
  ) {
    nsp.use((socket, next) => {
      const tls = ctx.plaintext ? undefined : (socket.request.socket as TLSSocket);
      const checked = checkHello(socket.handshake.auth, tls, ctx.self, ctx.auth);
      if (!checked.ok) {
        this.refused(socket, checked.failure, checked.detail);
        next(Object.assign(new Error('handshake refused'), { data: { code: checked.failure } }));
        closeAfterRefusal(socket);
        return;
      }
      this.hellos.set(socket, checked.hello);
      next();
    });
    nsp.on('connection', (socket) => this.accept(socket));
  }

  /** Closes every connection from `peer`; whether there was one. */
  disconnect(peer: NodeId): boolean {
    const set = this.sessions.get(peer);
    if (!set || set.size === 0) return false;
    for (const socket of [...set]) socket.disconnect(true);
    this.sessions.delete(peer);
    return true;
  }

  /**
   * Closes every connection whose client certificate is no longer good: its issuer was retired
   * (a finished CA rotation). It takes no new frame or request from then on; requests it sent
   * before are answered first. The peer reconnects with its renewed one. Returns the peers.
   */
  disconnectRetiredIssuers(): NodeId[] {
    const trusted = this.ctx.auth.issuerTrusted;
    if (this.ctx.plaintext || !trusted) return [];
    const dropped: NodeId[] = [];
    for (const [peer, set] of this.sessions) {
      for (const socket of [...set]) {
        const cert = (socket.request.socket as TLSSocket).getPeerCertificate(true);
        if (trusted(issuerFingerprint(cert))) continue;
        set.delete(socket);
        this.closeWhenAnswered(socket);
        dropped.push(peer);
      }
      if (set.size === 0) this.sessions.delete(peer);
    }
    return dropped;
  }

  private closeWhenAnswered(socket: Socket): void {
    socket.removeAllListeners(RAFT_EVENT);
    socket.removeAllListeners(REQUEST_EVENT);
    if ((this.answering.get(socket) ?? 0) === 0) socket.disconnect(true);
    else this.closing.add(socket);
  }

  /** Whether an authenticated connection from `peer` is open. */
  has(peer: NodeId): boolean {
    return (this.sessions.get(peer)?.size ?? 0) > 0;
  }

  private accept(socket: Socket): void {
    const { ctx } = this;
    const hello = this.hellos.get(socket);
    if (!hello) {
      socket.disconnect(true);
      return;
    }
    const peer: NodeId = hello.from;
    ctx.admit(socket);

    socket.onAny((event: unknown) => {
      if (typeof event !== 'string' || !KNOWN_EVENTS.has(event)) ctx.counters.malformed += 1;
    });
    socket.on(RAFT_EVENT, (frame: unknown) => {
      ctx.counters.framesReceived += 1;
      const { messages, malformed } = decodeFrame(frame, peer, ctx.self);
      if (malformed > 0) {
        ctx.counters.malformed += malformed;
        ctx.refusals.refused(peer, { peer, count: malformed }, 'dropped malformed raft messages');
      }
      if (messages.length > 0) ctx.deliver(messages);
    });
    socket.on(REQUEST_EVENT, (method: unknown, payload: unknown, ack: unknown) => {
      if (typeof ack !== 'function') {
        ctx.counters.malformed += 1;
        return;
      }
      const reply = ack as (reply: Reply) => void;
      const from = peer;
      this.answering.set(socket, (this.answering.get(socket) ?? 0) + 1);
      void answerRequest(ctx.handlers, from, method, payload).then((answer) => {
        const left = (this.answering.get(socket) ?? 1) - 1;
        this.answering.set(socket, left);
        if (left === 0 && this.closing.has(socket)) setImmediate(() => socket.disconnect(true));
        try {
          reply(answer);
        } catch (err) {
          ctx.log.error(
            {
              peer: from,
              method,
              err: String(err),
            },
            'cluster request answer could not be encoded',
          );
          reply(transportFailure('BAD_MESSAGE', 'the answer could not be encoded'));
        }
      });
    });
    socket.on(PING_EVENT, (ack: unknown) => {
      if (typeof ack === 'function') (ack as () => void)();
    });
    socket.on('disconnect', () => {
      const set = this.sessions.get(peer);
      set?.delete(socket);
      if (set?.size === 0) this.sessions.delete(peer);
    });
    if (hello.address) ctx.onPeerAddress?.(peer, hello.address);
    let set = this.sessions.get(peer);
    if (!set) this.sessions.set(peer, (set = new Set()));
    set.add(socket);
    ctx.log.info({ peer }, 'peer connected to us');
  }

  private refused(socket: Socket, failure: RefusalReason, detail: string): void {
    countRefusal(this.ctx.counters, failure);
    const claimed = (socket.handshake.auth as { from?: unknown } | undefined)?.from;
    const address = socket.handshake.address;
    this.ctx.refusals.refused(
      address,
      {
        reason: failure,
        detail,
        ...(typeof claimed === 'string' ? { claimedPeer: claimed.slice(0, 256) } : {}),
        address,
      },
      'refused peer handshake',
    );
  }
}
