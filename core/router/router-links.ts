/**
 * The router's links to other routers: socket.io connections between the routers' --listen
 * addresses, accepted here (hello checked by link-auth.ts) or dialed, at most one per peer
 * (link-registry.ts). The dialer measures latency and tells the acceptor; probes travel hop by
 * hop along a circuit's links. What changes is told through `LinkReports`: this module does not
 * know the controllers.
 */
import { randomBytes } from 'node:crypto';
import type { Server as HttpsServer } from 'node:https';
import type { PeerCertificate } from 'node:tls';
import type { Logger } from 'pino';
import { Server, type Socket as ServerSocket } from 'socket.io';
import { io, type Socket as ClientSocket } from 'socket.io-client';
import { z } from 'zod';
import type { WireLink } from '../runtime/protocol.js';
import { createFrameParser } from '../transport/frame-parser.js';
import type { ForwardingTable } from './forwarding-table.js';
import { RefusalLog } from '../transport/refusal-log.js';
import { routerIdOf, verifiedCertificate } from '../transport/cert-auth.js';
import { clientTls, type RouterCredentials } from './credentials.js';
import { LINK_NAMESPACE, checkLinkHello, makeLinkHello, type LinkHello } from './link-auth.js';
import { LinkRegistry, type RouterLink } from './link-registry.js';
import type { TrustList } from './trust-list.js';

/** What the links tell the controllers. */
export interface LinkReports {
  up(link: WireLink): void;
  down(id: string, reason: string): void;
  latency(id: string, latencyMs: number): void;
  /** The circuits routed over `linkId` lost it. */
  faults(linkId: string, reason: string): void;
}

export interface RouterLinksOptions {
  /** This router's credentials as they are now (renewal swaps them; read for every dial). */
  readonly credentials: () => RouterCredentials;
  /** The controllers' word on which certificates are good (trust-list.ts). */
  readonly trust: TrustList;
  readonly log: Logger;
  readonly routes: ForwardingTable;
  readonly reports: LinkReports;
  readonly pingMs: number;
}

export interface ProbeResult {
  readonly ok: boolean;
  readonly hops: readonly string[];
  readonly reason?: string;
}

/** What both socket.io socket kinds offer; a link is one or the other. */
interface LinkSocket {
  on(event: string, listener: (...args: any[]) => void): unknown; // eslint-disable-line @typescript-eslint/no-explicit-any
  emit(event: string, ...args: unknown[]): unknown;
  timeout(ms: number): { emitWithAck(event: string, ...args: unknown[]): Promise<unknown> };
  disconnect(close?: boolean): unknown;
}

interface AgentLink extends RouterLink {
  readonly socket: LinkSocket;
  /** The serial of the peer's certificate. */
  readonly peerSerial?: string;
  timer?: NodeJS.Timeout;
}

const probeSchema = z.object({ circuitId: z.string().max(128), hops: z.array(z.string().max(256)).max(64) });
const latencySchema = z.object({ latencyMs: z.number().finite().min(0).max(600_000) });

export class RouterLinks {
  private readonly registry = new LinkRegistry<AgentLink>();
  /** This router's id (its certificate's): what it goes by on the wire. */
  private readonly name: string;
  /** Peers whose links are cut by the fault hook: closed and refused both ways. */
  readonly blocked = new Set<string>();
  private readonly parser = createFrameParser(() => undefined);
  private server: Server | undefined;
  /** Dials not finished yet: closing ends them too, or one would keep the process alive. */
  private readonly dialing = new Set<ClientSocket>();
  private closed = false;
  private readonly refusals: RefusalLog;
  /** Link dials refused: TLS (no certificate of this cluster) or the hello. */
  refused = 0;
  constructor(private readonly o: RouterLinksOptions) {
    this.name = o.credentials().routerId;
    this.refusals = new RefusalLog(o.log);
  }

  /** Accepts links on the `/links` namespace of this server (mutual TLS). */
  accept(http: HttpsServer): void {
    http.on('tlsClientError', (err: Error & { code?: string }, socket: { remoteAddress?: string }) =>
      this.refuse(socket.remoteAddress ?? 'unknown', `TLS: ${err.code ?? err.message}`),
    );
    const server = new Server(http, { transports: ['websocket'], serveClient: false, parser: this.parser });
    server.use((_socket, next) => next(new Error('no such namespace')));
    const nsp = server.of(LINK_NAMESPACE);
    nsp.use((socket, next) => {
      const hello = this.checkHello(socket);
      if (typeof hello === 'string' || this.blocked.has(hello.from) || this.registry.get(hello.id)) {
        this.refuse(socket.handshake.address, typeof hello === 'string' ? hello : 'blocked or duplicate id');
        next(new Error('link refused'));
        return;
      }
      next();
    });
    nsp.on('connection', (socket: ServerSocket) => {
      const hello = this.checkHello(socket);
      if (typeof hello === 'string') return void socket.disconnect(true);
      const peerSerial = verifiedCertificate(socket.request.socket)?.serialNumber;
      const link: AgentLink = {
        id: hello.id,
        peer: hello.from,
        ...(peerSerial ? { peerSerial } : {}),
        dialer: hello.from,
        acceptor: this.name,
        latencyMs: 0,
        socket,
        close: () => socket.disconnect(true),
      };
      this.linkEvents(link);
      this.register(link);
    });
    this.server = server;
  }

  /** The trust list changed: links to routers whose certificates are no longer good close. */
  trustChanged(): void {
    for (const link of this.registry.list()) {
      if (!this.peerGood(link.peer, link.peerSerial)) this.closeLink(link, 'its certificate was revoked');
    }
  }

  /** Whether the controllers (once heard) say the peer's certificate is good. */
  private peerGood(peer: string, serial: string | undefined): boolean {
    return this.o.trust.routerGood(peer, serial);
  }

  has(id: string): boolean {
    return this.registry.get(id) !== undefined;
  }

  list(): WireLink[] {
    return this.registry.list().map((l) => wire(l));
  }

  /** The links as the status endpoint shows them. */
  status(): (WireLink & { peer: string })[] {
    return this.registry.list().map((l) => ({ ...wire(l), peer: l.peer }));
  }

  /** The link to `peer`: the one that exists, the dial in flight, or a new one. */
  async dialOnce(peer: string, address: string): Promise<{ link: WireLink; existing: boolean }> {
    const { link, existing } = await this.registry.dialOnce(peer, () => this.dial(peer, address));
    return { link: wire(link), existing };
  }

  /** Fault hook: cut the link to `peer` and refuse new ones until unblocked. */
  block(peer: string): void {
    this.blocked.add(peer);
    const link = this.registry.toPeer(peer);
    if (link) this.closeLink(link, 'blocked');
  }

  unblock(peer: string): void {
    this.blocked.delete(peer);
  }

  /** Sends a probe along the circuit's links, hop by hop, from here: shows the routes work. */
  probe(circuitId: string): Promise<ProbeResult> {
    return this.forwardProbe(circuitId, []);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const socket of this.dialing) {
      socket.removeAllListeners();
      socket.disconnect();
    }
    this.dialing.clear();
    for (const l of this.registry.list()) {
      clearInterval(l.timer);
      l.close();
    }
    this.refusals.close();
    if (this.server) await new Promise<void>((resolve) => void this.server?.close(() => resolve()));
  }

  private checkHello(socket: ServerSocket): LinkHello | string {
    const credentials = this.o.credentials();
    // TLS verified the chain (the server refuses any other); the certificate says which router.
    const cert = verifiedCertificate(socket.request.socket);
    const certified = cert ? routerIdOf(cert, credentials.clusterId) : undefined;
    const hello = checkLinkHello(this.name, socket.handshake.auth, certified);
    if (typeof hello !== 'string' && !this.peerGood(hello.from, cert?.serialNumber)) {
      return `router ${hello.from}'s certificate was revoked`;
    }
    return hello;
  }

  private refuse(address: string, reason: string): void {
    this.refused += 1;
    this.refusals.refused(address, { reason, address }, 'refused a link');
  }

  private dial(peer: string, address: string): Promise<AgentLink> {
    const id = `${this.name}~${peer}~${randomBytes(4).toString('hex')}`;
    const credentials = this.o.credentials();
    let peerSerial: string | undefined;
    const secure = {
      ...clientTls(credentials),
      rejectUnauthorized: true,
      // The acceptor is the router the controller named, whatever address it was reached at.
      checkServerIdentity: (_host: string, cert: PeerCertificate) => {
        if (routerIdOf(cert, credentials.clusterId) !== peer)
          return new Error(`the certificate at ${address} does not name router ${peer}`);
        if (!this.peerGood(peer, cert.serialNumber))
          return new Error(`router ${peer}'s certificate at ${address} was revoked`);
        peerSerial = cert.serialNumber;
        return undefined;
      },
    };
    const hello = makeLinkHello(id, this.name, peer);
    const socket = io(`https://${address}${LINK_NAMESPACE}`, {
      transports: ['websocket'],
      forceNew: true,
      reconnection: false,
      timeout: 5_000,
      parser: this.parser,
      auth: (cb) => cb(hello),
      ...secure,
    });
    this.dialing.add(socket);
    return new Promise((resolve, reject) => {
      const fail = (err: Error): void => {
        this.dialing.delete(socket);
        socket.removeAllListeners();
        socket.disconnect();
        reject(new Error(`dialing ${peer} at ${address} failed: ${err.message}`));
      };
      socket.once('connect_error', fail);
      socket.once('connect', () => {
        socket.off('connect_error', fail);
        const link: AgentLink = {
          id,
          peer,
          ...(peerSerial ? { peerSerial } : {}),
          dialer: this.name,
          acceptor: peer,
          latencyMs: 0,
          socket,
          close: () => socket.disconnect(),
        };
        this.linkEvents(link);
        void this.measure(link).then(() => {
          if (this.closed) return fail(new Error('the router is closing'));
          this.dialing.delete(socket);
          link.timer = setInterval(() => void this.measure(link), this.o.pingMs);
          resolve(this.register(link));
        });
      });
    });
  }

  /** Registers a new connection; of two links to one peer both ends keep the same one. */
  private register(link: AgentLink): AgentLink {
    const { kept, closed } = this.registry.add(link);
    if (closed) {
      clearInterval(closed.timer);
      closed.close();
      if (closed !== link) {
        this.o.reports.down(closed.id, 'duplicate');
        this.o.reports.faults(closed.id, 'duplicate link closed');
      }
    }
    if (kept === link) {
      this.o.log.info({ id: link.id, peer: link.peer }, 'link up');
      this.o.reports.up(wire(link));
    }
    return kept;
  }

  private linkEvents(link: AgentLink): void {
    const { socket } = link;
    socket.on('ping', (ack: unknown) => typeof ack === 'function' && (ack as () => void)());
    socket.on('latency', (payload: unknown) => {
      const parsed = latencySchema.safeParse(payload);
      if (parsed.success) this.setLatency(link, parsed.data.latencyMs);
    });
    socket.on('probe', (payload: unknown, ack: unknown) => {
      const parsed = probeSchema.safeParse(payload);
      if (!parsed.success || typeof ack !== 'function') return;
      const route = this.o.routes.get(parsed.data.circuitId);
      const reply = ack as (r: ProbeResult) => void;
      if (!route || route.previousLink !== link.id) {
        reply({
          ok: false,
          hops: [...parsed.data.hops, this.name],
          reason: `no route for it at ${this.name}`,
        });
        return;
      }
      void this.forwardProbe(parsed.data.circuitId, parsed.data.hops).then(reply);
    });
    socket.on('disconnect', () => this.closeLink(link, 'connection closed'));
  }

  private async forwardProbe(circuitId: string, hops: readonly string[]): Promise<ProbeResult> {
    const here = [...hops, this.name];
    const route = this.o.routes.get(circuitId);
    if (!route) return { ok: false, hops: here, reason: `no route at ${this.name}` };
    if (!route.nextLink) return { ok: true, hops: here };
    const link = this.registry.get(route.nextLink);
    if (!link) return { ok: false, hops: here, reason: `link ${route.nextLink} is gone at ${this.name}` };
    try {
      const reply = await link.socket.timeout(2_000).emitWithAck('probe', { circuitId, hops: here });
      return reply as ProbeResult;
    } catch {
      return { ok: false, hops: here, reason: `no answer over ${link.id}` };
    }
  }

  private async measure(link: AgentLink): Promise<void> {
    const sent = process.hrtime.bigint();
    try {
      await link.socket.timeout(2_000).emitWithAck('ping');
    } catch {
      return;
    }
    const ms = Math.round(Number(process.hrtime.bigint() - sent) / 1e4) / 100;
    link.socket.emit('latency', { latencyMs: ms });
    this.setLatency(link, ms);
  }

  /** Controllers hear of latency only when it moved by 1 ms and 20%: pings must not flood them. */
  private setLatency(link: AgentLink, ms: number): void {
    const old = link.latencyMs;
    link.latencyMs = ms;
    if (this.registry.get(link.id) !== link) return;
    if (Math.abs(ms - old) >= 1 && Math.abs(ms - old) >= 0.2 * old) this.o.reports.latency(link.id, ms);
  }

  private closeLink(link: AgentLink, reason: string): void {
    clearInterval(link.timer);
    link.close();
    if (!this.registry.remove(link.id)) return;
    this.o.log.info({ id: link.id, peer: link.peer, reason }, 'link down');
    this.o.reports.down(link.id, reason);
    this.o.reports.faults(link.id, reason);
  }
}

function wire(link: RouterLink): WireLink {
  return { id: link.id, dialer: link.dialer, acceptor: link.acceptor, latencyMs: link.latencyMs };
}
