/**
 * The router's connection to one controller: socket.io over TLS on the controller's cluster
 * listener (`/routers`) over mutual TLS: the controller's certificate must chain to the cluster CA
 * and name a controller of the cluster; the router presents its own (the controller knows it by
 * the certificate, and says who it is in `auth:accepted`, which must match its certificate).
 * Then heartbeats measure the round trip.
 * A controller whose heartbeat goes unanswered for `unresponsiveMs` is unresponsive: it gets no
 * new circuits until it answers again. Every attempt is a fresh socket; failures wait a
 * capped, jittered back-off (as the peer transport does).
 */
import type { Logger } from 'pino';
import type { PeerCertificate } from 'node:tls';
import { io, type Socket } from 'socket.io-client';
import { Backoff } from '../transport/backoff.js';
import { createFrameParser } from '../transport/frame-parser.js';
import { EVENTS, PROTOCOL_VERSION, ROUTER_NAMESPACE, acceptedSchema } from '../runtime/protocol.js';
import { controllerIdOf, issuerFingerprint, RETIRED_ISSUER } from '../transport/cert-auth.js';
import { clientTls, type RouterCredentials } from './credentials.js';

export interface SessionOptions {
  readonly url: string;
  /** The router's credentials as they are now (renewal swaps them; read for every attempt). */
  readonly credentials: () => RouterCredentials;
  /** Whether a controller was removed from the cluster: its certificate is refused. */
  readonly revoked: (controllerId: string) => boolean;
  /** Whether a certificate signed by the intermediate with this fingerprint is still good. */
  readonly issuerTrusted: (fingerprint: string | undefined) => boolean;
  readonly listen: string | undefined;
  readonly log: Logger;
  readonly heartbeatMs: number;
  readonly unresponsiveMs: number;
  /** Called with the socket once authenticated: the agent registers its request handlers on it. */
  readonly onReady: (session: ControllerSession, socket: Socket) => void;
  readonly onDown: (session: ControllerSession) => void;
}

export class ControllerSession {
  /** The controller's node id (its certificate's) and name, from its acceptance. */
  controllerId: string | undefined;
  controllerName: string | undefined;
  rttMs: number | undefined;
  /** The fingerprint of the CA that signed the controller's certificate on this session. */
  controllerIssuer: string | undefined;
  /** Connections refused because the controller's certificate is revoked (a removed member, a retired issuer). */
  refusedRevoked = 0;
  private lastAnswer = 0;
  private socket: Socket | undefined;
  /** The session being replaced (after a renewal): open until its successor is accepted. */
  private previous: Socket | undefined;
  private ready = false;
  private closed = false;
  private readonly backoff = new Backoff(100, 3_000, Math.random);
  private retry: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private readonly parser = createFrameParser(() => undefined);

  constructor(private readonly o: SessionOptions) {
    this.connect();
  }

  get url(): string {
    return this.o.url;
  }

  get connected(): boolean {
    return this.ready;
  }

  /** Connected and answering heartbeats within the bound. */
  get responsive(): boolean {
    return this.ready && Date.now() - this.lastAnswer <= this.o.unresponsiveMs;
  }

  send(event: string, payload: unknown): void {
    if (this.ready) this.socket?.emit(event, payload);
  }

  async request(event: string, payload: unknown, timeoutMs: number): Promise<unknown> {
    const socket = this.socket;
    if (!this.ready || !socket) throw new Error(`controller ${this.o.url} is not connected`);
    return socket.timeout(timeoutMs).emitWithAck(event, payload);
  }

  /**
   * Moves the session onto the credentials as they are now (after a renewal), make before break:
   * the old connection stays open until the controller accepted the new one, which replaces it
   * there, so the controller never sees this router go. Not in session, it has nothing to move:
   * its next attempt uses the new credentials anyway.
   */
  reconnect(): void {
    if (this.closed || !this.ready || !this.socket) return;
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    this.previous = this.socket;
    this.socket = undefined;
    this.ready = false;
    this.connect();
  }

  /** Ends the connection (its controller's certificate was revoked); it retries as after a failure. */
  drop(why: string): void {
    if (this.socket) this.fail(this.socket, why);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.retry);
    this.teardown();
  }

  private connect(): void {
    if (this.closed) return;
    const credentials = this.o.credentials();
    const hello = {
      v: PROTOCOL_VERSION,
      router: credentials.routerId,
      ...(this.o.listen ? { listen: this.o.listen } : {}),
    };
    // The controller id its certificate names and that certificate's issuer, seen during this
    // attempt's TLS handshake.
    let certified: string | undefined;
    let issuer: string | undefined;
    const socket = io(`${this.o.url}${ROUTER_NAMESPACE}`, {
      transports: ['websocket'],
      forceNew: true,
      reconnection: false,
      timeout: 5_000,
      parser: this.parser,
      auth: (cb) => cb(hello),
      ...clientTls(credentials),
      rejectUnauthorized: true,
      // A controller is named by its SPIFFE id, not by the host dialled (the lab dials 127.0.0.1).
      ...{
        checkServerIdentity: (_host: string, cert: PeerCertificate) => {
          certified = controllerIdOf(cert, credentials.clusterId);
          if (!certified) return notAController();
          if (this.o.revoked(certified)) {
            this.refusedRevoked += 1;
            return new Error(
              `controller ${certified} was removed from the cluster: its certificate is revoked`,
            );
          }
          issuer = issuerFingerprint(cert);
          if (!this.o.issuerTrusted(issuer)) {
            this.refusedRevoked += 1;
            return new Error(`controller ${certified}: ${RETIRED_ISSUER}`);
          }
          return undefined;
        },
      },
    });
    this.socket = socket;
    socket.on(EVENTS.accepted, (payload: unknown) => {
      const accepted = acceptedSchema.safeParse(payload);
      if (!accepted.success || this.ready) return this.fail(socket, 'malformed acceptance');
      // The controller says who it is; its certificate must say the same.
      if (accepted.data.controller !== certified) {
        return this.fail(
          socket,
          `the controller calls itself ${accepted.data.controller}, its certificate ${String(certified)}`,
        );
      }
      this.controllerId = accepted.data.controller;
      this.controllerName = accepted.data.controllerName;
      this.controllerIssuer = issuer;
      this.established(socket);
    });
    socket.on('connect_error', (err: Error & { data?: { code?: unknown } }) =>
      this.fail(socket, `refused: ${String(err.data?.code ?? err.message)}`),
    );
    socket.on('disconnect', (reason) => this.fail(socket, `disconnected: ${reason}`));
  }

  private established(socket: Socket): void {
    this.closePrevious();
    this.ready = true;
    this.lastAnswer = Date.now();
    this.backoff.reset();
    this.o.log.info({ url: this.o.url, controller: this.controllerId }, 'connected to controller');
    this.o.onReady(this, socket);
    this.startHeartbeat(socket);
  }

  private startHeartbeat(socket: Socket): void {
    const beat = (): void => {
      const sent = Date.now();
      socket
        .timeout(this.o.unresponsiveMs)
        .emitWithAck(EVENTS.heartbeat)
        .then(
          () => {
            this.lastAnswer = Date.now();
            this.rttMs = this.lastAnswer - sent;
          },
          () => undefined,
        );
    };
    beat();
    this.heartbeat = setInterval(beat, this.o.heartbeatMs);
  }

  private fail(socket: Socket, why: string): void {
    if (socket !== this.socket) return;
    const wasReady = this.ready || this.previous !== undefined;
    this.teardown();
    if (wasReady) {
      this.o.log.warn({ url: this.o.url, why }, 'lost controller');
      this.o.onDown(this);
    }
    if (this.closed) return;
    this.retry = setTimeout(() => this.connect(), this.backoff.next());
  }

  private teardown(): void {
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    this.ready = false;
    this.rttMs = undefined;
    const socket = this.socket;
    this.socket = undefined;
    socket?.removeAllListeners();
    socket?.disconnect();
    this.closePrevious();
  }

  private closePrevious(): void {
    const previous = this.previous;
    this.previous = undefined;
    previous?.removeAllListeners();
    previous?.disconnect();
  }
}

const notAController = (): Error =>
  new Error('the server certificate does not name a controller of the cluster');

/** Accepts a server certificate (already chained to the cluster CA) only if it names a controller. */
export function controllerIdentity(_host: string, cert: PeerCertificate): Error | undefined {
  return controllerIdOf(cert) ? undefined : notAController();
}
