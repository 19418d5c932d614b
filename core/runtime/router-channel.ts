/**
 * The controller's side of the router channel: routers connect to the `/routers` namespace of the
 * cluster listener over mutual TLS, and a router is known by its certificate alone: TLS verified
 * its chain to the cluster root, its `spiffe://<cluster>/router/<id>` names a router of the model,
 * enabled, with that certificate enrolled and not revoked, and its hello must name that same id.
 * A connection without such a certificate is refused, counted and logged (once per address and
 * reason). Until it is admitted not one message is accepted. Every message is parsed with
 * its schema (protocol.ts); what fails is dropped and counted (drops.ts), never thrown. A session
 * lasts only while the model admits its router (`revalidate`).
 */
import type { Logger } from 'pino';
import type { Namespace, Socket } from 'socket.io';
import type { z } from 'zod';
import { closeAfterRefusal } from '../transport/admission.js';
import { RefusalLog } from '../transport/refusal-log.js';
import { ackFailure } from '../transport/requests.js';
import type { ModelRouter } from './circuit-service.js';
import type { DropCounter } from './drops.js';
import { RuntimeError } from './errors.js';
import {
  EVENTS,
  PROTOCOL_VERSION,
  circuitAskSchema,
  confirmSchema,
  faultSchema,
  renewSchema,
  helloSchema,
  linkEventSchema,
  linksSchema,
  type Answer,
  type Fault,
  type Peers,
  type Renewed,
  type LinkEvent,
  type WireCircuit,
  type WireLink,
} from './protocol.js';
import { presentedCertificate, routerIdOf } from '../transport/cert-auth.js';
import type { RouterId } from './types.js';

/** What the channel hands over once a message parsed and its router is known. */
export interface RouterChannelHandler {
  connected(router: ModelRouter, listen: string | undefined): void;
  disconnected(router: RouterId): void;
  reportLinks(router: RouterId, links: readonly WireLink[]): void;
  reportLink(router: RouterId, event: LinkEvent): void;
  fault(router: RouterId, fault: Fault): void;
  createCircuit(router: RouterId, identity: string, service: string): Promise<Answer<WireCircuit>>;
  /** The ids of `circuitIds` this controller does not own. */
  confirmRoutes(router: RouterId, circuitIds: readonly string[]): string[];
  /** A renewed certificate for a router that proved the certificate with `serial`. */
  renewCertificate(router: RouterId, serial: string, csr: string): Promise<Answer<Renewed>>;
}

export interface RouterChannelOptions {
  readonly namespace: Namespace;
  readonly self: string;
  readonly selfName: string;
  /** Certificates name routers of this cluster only. */
  readonly clusterId: string;
  /** A router of the model, by id. */
  readonly routerById: (id: string) => ModelRouter | undefined;
  /** Whether the certificate with this serial is one the router enrolled for and still good. */
  readonly certificateCurrent: (routerId: string, serial: string) => boolean;
  /** Whom routers may trust now: routers' good certificates, controllers removed. */
  readonly peers: () => Peers;
  readonly handler: RouterChannelHandler;
  readonly drops: DropCounter;
  readonly log: Logger;
  /** The router proved itself: lift the cluster port's limits on strangers for its connection. */
  readonly admit: (socket: Socket) => void;
}

export interface RouterSession {
  readonly router: ModelRouter;
  /** The serial of the certificate it connected on (upper-case hex). */
  readonly serial: string;
  readonly listen: string | undefined;
  readonly since: number;
}

const KNOWN: ReadonlySet<string> = new Set([
  EVENTS.heartbeat,
  EVENTS.links,
  EVENTS.link,
  EVENTS.fault,
  EVENTS.createCircuit,
  EVENTS.confirmRoutes,
  EVENTS.renew,
]);

export class RouterChannel {
  private readonly sessions = new Map<RouterId, { socket: Socket; session: RouterSession }>();
  private delayMs = 0;
  /** The peer list last sent to every router (JSON), to send it again only on change. */
  private sentPeers = '';
  private readonly refusals: RefusalLog;
  refusedHandshakes = 0;
  /** Sessions closed because their router was deleted or disabled, or its certificate revoked. */
  sessionsCut = 0;

  constructor(private readonly o: RouterChannelOptions) {
    const { namespace } = o;
    this.refusals = new RefusalLog(o.log);
    namespace.use((socket, next) => {
      const refusal = this.admission(socket);
      if (!refusal) return next();
      this.refuse(socket, refusal.code, refusal.router);
      if (refusal.code === 'UNKNOWN_ROUTER') o.drops.drop('UNKNOWN_ROUTER', { router: refusal.router });
      next(Object.assign(new Error(refusal.message), { data: { code: refusal.code } }));
      closeAfterRefusal(socket);
    });
    namespace.on('connection', (socket) => this.accept(socket));
  }

  /** Test and lab fault: every answer to routers and every request to them waits this long. */
  setDelay(ms: number): void {
    this.delayMs = ms;
  }

  get delay(): number {
    return this.delayMs;
  }

  session(router: RouterId): RouterSession | undefined {
    return this.sessions.get(router)?.session;
  }

  connected(router: RouterId): boolean {
    return this.sessions.has(router);
  }

  list(): RouterSession[] {
    return [...this.sessions.values()].map((s) => s.session);
  }

  /** A request to a router, answered through socket.io's acknowledgement. */
  async request(router: RouterId, event: string, payload: unknown, timeoutMs: number): Promise<unknown> {
    const entry = this.sessions.get(router);
    if (!entry) throw new RuntimeError('ROUTER_NOT_CONNECTED', `router ${router} is not connected`);
    await this.delayed();
    try {
      return await entry.socket.timeout(timeoutMs).emitWithAck(event, payload);
    } catch (err) {
      // The same stable codes as cluster requests; a timeout keeps the runtime's own code.
      const failure = ackFailure(err, `router ${entry.session.router.name}`, event);
      if (failure.code !== 'TIMEOUT') throw failure;
      throw new RuntimeError('ROUTER_TIMEOUT', `the router did not answer in time: ${failure.message}`);
    }
  }

  /**
   * Cuts the sessions of routers the model no longer admits: deleted, disabled, or on a
   * certificate revoked (the router enrolled again). The runtime calls this after every apply that touched routers and on its once-a-second tick,
   * which covers a snapshot restore (it replaces the model without an apply to announce).
   */
  revalidate(): void {
    for (const [id, entry] of this.sessions) {
      const { socket, session } = entry;
      // A router is its id, whatever it is called now.
      const now = this.o.routerById(id);
      const why = this.whyCut(now, session);
      if (now && !why) {
        // Still admitted: renamed, perhaps; the session shows the model's router as it is now.
        entry.session = { ...session, router: now };
        continue;
      }
      this.sessions.delete(id);
      this.sessionsCut += 1;
      this.o.log.warn(
        { router: session.router.name, why },
        'router session cut: the model no longer admits it',
      );
      socket.disconnect(true);
      this.o.handler.disconnected(id);
    }
    this.tellPeers();
  }

  /** Why the model no longer admits a live session, or undefined while it does. */
  private whyCut(now: ModelRouter | undefined, session: RouterSession): string | undefined {
    if (!now) return 'deleted';
    if (now.disabled) return 'disabled';
    if (!this.o.certificateCurrent(now.id, session.serial)) return 'certificate revoked (enrolled again)';
    return undefined;
  }

  /** Tells every router the routers it may link with, when that changed. */
  private tellPeers(): void {
    // Nothing to read on the once-a-second tick while no router is connected.
    if (this.sessions.size === 0) return;
    const peers = this.o.peers();
    const key = JSON.stringify([peers.routers, peers.revokedControllers, peers.issuers, peers.root]);
    if (key === this.sentPeers) return;
    this.sentPeers = key;
    for (const { socket } of this.sessions.values()) socket.emit(EVENTS.peers, peers);
  }

  close(): void {
    for (const { socket } of this.sessions.values()) socket.disconnect(true);
    this.sessions.clear();
    this.refusals.close();
  }

  private accept(socket: Socket): void {
    const hello = helloSchema.parse(socket.handshake.auth);
    const { o } = this;
    // TLS proved who it is: in session at once, then told who we are. Admitted again: the router
    // may have been deleted, disabled or enrolled anew since the middleware ran.
    const presented = presentedCertificate(socket.request.socket);
    const router = presented && !this.admission(socket) ? o.routerById(hello.router) : undefined;
    if (!presented || !router) return void socket.disconnect(true);
    socket.onAny((event: unknown) => {
      if (typeof event !== 'string' || !KNOWN.has(event))
        o.drops.drop('UNKNOWN_EVENT', { event: String(event).slice(0, 64) });
    });
    const on = <S extends z.ZodType>(
      event: string,
      schema: S,
      act: (router: ModelRouter, message: z.output<S>, ack: ((reply: unknown) => void) | undefined) => void,
    ): void => {
      socket.on(event, (payload: unknown, ack: unknown) => {
        const reply = typeof ack === 'function' ? (ack as (reply: unknown) => void) : undefined;
        const parsed = schema.safeParse(payload);
        if (!parsed.success) {
          o.drops.drop('MALFORMED', { router: router.name, event, issue: parsed.error.issues[0]?.message });
          reply?.({ ok: false, code: 'MALFORMED', message: 'the message does not parse' });
          return;
        }
        try {
          act(router, parsed.data, reply);
        } catch (err) {
          o.log.error({ router: router.name, event, err: String(err) }, 'router message handler threw');
        }
      });
    };
    socket.on(EVENTS.heartbeat, (ack: unknown) => {
      if (typeof ack === 'function')
        void this.delayed().then(() => (ack as (r: unknown) => void)({ at: Date.now() }));
    });
    on(EVENTS.links, linksSchema, (r, m) => o.handler.reportLinks(r.id, m.links));
    on(EVENTS.link, linkEventSchema, (r, m) => o.handler.reportLink(r.id, m));
    on(EVENTS.fault, faultSchema, (r, m) => o.handler.fault(r.id, m));
    on(EVENTS.createCircuit, circuitAskSchema, (r, m, ack) => {
      void o.handler.createCircuit(r.id, m.identity, m.service).then(async (answer) => {
        await this.delayed();
        ack?.(answer);
      });
    });
    // The serial this connection proved: the renewal is recorded against it.
    const serial = presented.cert.serialNumber.toUpperCase();
    on(EVENTS.renew, renewSchema, (r, m, ack) => {
      void o.handler.renewCertificate(r.id, serial, m.csr).then(async (answer) => {
        await this.delayed();
        ack?.(answer);
      });
    });
    on(EVENTS.confirmRoutes, confirmSchema, (r, m, ack) => {
      const unknown = o.handler.confirmRoutes(r.id, m.circuitIds);
      void this.delayed().then(() => ack?.({ unknown }));
    });
    socket.on('disconnect', () => {
      const current = this.sessions.get(router.id);
      if (current?.socket !== socket) return;
      this.sessions.delete(router.id);
      o.log.info({ router: router.name }, 'router disconnected');
      o.handler.disconnected(router.id);
    });

    this.open(socket, router, presented.cert.serialNumber, hello.listen);
    socket.emit(EVENTS.accepted, { v: PROTOCOL_VERSION, controller: o.self, controllerName: o.selfName });
    socket.emit(EVENTS.peers, o.peers());
  }

  private open(socket: Socket, router: ModelRouter, serial: string, listen: string | undefined): void {
    const { o } = this;
    o.admit(socket);
    const previous = this.sessions.get(router.id);
    this.sessions.set(router.id, {
      socket,
      session: { router, serial: serial.toUpperCase(), listen, since: Date.now() },
    });
    // A reconnecting router's old socket may linger: the new one replaces it.
    previous?.socket.disconnect(true);
    o.log.info({ router: router.name, serial }, 'router connected');
    o.handler.connected(router, listen);
  }

  /**
   * Why a connection may not start a session, or undefined. Its certificate decides alone: it
   * must chain to the cluster root, name a router of this cluster that the model has and that is
   * enabled, be the one that router enrolled for, and the hello must name the same id.
   */
  private admission(socket: Socket): { code: string; message: string; router?: string } | undefined {
    const hello = helloSchema.safeParse(socket.handshake.auth);
    if (!hello.success) return { code: 'BAD_HELLO', message: 'handshake refused' };
    const claimed = hello.data.router;
    const presented = presentedCertificate(socket.request.socket);
    if (!presented) {
      return {
        code: 'NO_CERTIFICATE',
        message: "routers connect with their own certificate ('meshdesk router enroll')",
        router: claimed,
      };
    }
    const { cert } = presented;
    if (!presented.authorized) {
      return {
        code: 'UNTRUSTED_CERTIFICATE',
        message: `the certificate is not from this cluster's CA (${String(presented.error)})`,
        router: claimed,
      };
    }
    const id = routerIdOf(cert, this.o.clusterId);
    if (!id)
      return {
        code: 'NOT_A_ROUTER',
        message: 'the certificate names no router of this cluster',
        router: claimed,
      };
    if (id !== claimed) {
      return {
        code: 'WRONG_ROUTER',
        message: `the certificate is router ${id}'s, not ${claimed}'s`,
        router: claimed,
      };
    }
    const router = this.o.routerById(id);
    if (!router || router.disabled) return { code: 'UNKNOWN_ROUTER', message: 'unknown router', router: id };
    if (!this.o.certificateCurrent(id, cert.serialNumber)) {
      return {
        code: 'REVOKED_CERTIFICATE',
        message:
          'the certificate was revoked: the router enrolled again or was disabled since, or its intermediate CA was retired',
        router: id,
      };
    }
    return undefined;
  }

  private refuse(socket: Socket, reason: string, router?: string): void {
    this.refusedHandshakes += 1;
    const address = socket.handshake.address;
    this.refusals.refused(
      address,
      { reason, ...(router ? { router: router.slice(0, 256) } : {}), address },
      'refused router handshake',
    );
  }

  private delayed(): Promise<void> {
    return this.delayMs > 0 ? new Promise((resolve) => setTimeout(resolve, this.delayMs)) : Promise.resolve();
  }
}
