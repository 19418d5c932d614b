/**
 * The router agent (`meshdesk router`): stands for an edge/transit router. It connects to every
 * controller (controller-session.ts), keeps its links to other routers (real socket.io
 * connections between the routers' --listen addresses, latency measured by the dialer) and its
 * forwarding table, reports links to every controller, creates circuits through its most
 * responsive controller, sends faults to a circuit's owner (to every controller when the owner is
 * gone), and confirms its routes periodically so controllers can drop the ones they do not own.
 */
import { randomBytes } from 'node:crypto';
import {
  createServer,
  type IncomingMessage,
  type Server as HttpServer,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server, type Socket as ServerSocket } from 'socket.io';
import { io, type Socket as ClientSocket } from 'socket.io-client';
import { z } from 'zod';
import type { RuntimeLog } from '../runtime/drops.js';
import {
  EVENTS,
  answerSchema,
  circuitAskSchema,
  confirmAnswerSchema,
  dialLinkSchema,
  routeSchema,
  unrouteSchema,
  wireCircuitSchema,
  type Answer,
  type WireCircuit,
  type WireLink,
} from '../runtime/protocol.js';
import { createFrameParser } from '../transport/frame-parser.js';
import { ControllerSession } from './controller-session.js';
import { ForwardingTable } from './forwarding-table.js';
import { LINK_NAMESPACE, checkLinkHello, makeLinkHello } from './link-auth.js';
import { LinkRegistry, type RouterLink } from './link-registry.js';

export interface RouterAgentOptions {
  readonly name: string;
  /** Base URLs of the controllers' cluster listeners, e.g. http://127.0.0.1:8541 */
  readonly controllers: readonly string[];
  readonly secret: string;
  /** Where to accept links (and serve the status endpoint); without it the router only dials. */
  readonly listen?: { readonly host: string; readonly port: number };
  readonly log?: RuntimeLog;
  readonly heartbeatMs?: number;
  readonly unresponsiveMs?: number;
  readonly linkPingMs?: number;
  readonly confirmMs?: number;
  readonly requestTimeoutMs?: number;
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
  timer?: NodeJS.Timeout;
}

const probeSchema = z.object({ circuitId: z.string().max(128), hops: z.array(z.string().max(256)).max(64) });
const latencySchema = z.object({ latencyMs: z.number().finite().min(0).max(600_000) });

export interface ProbeResult {
  readonly ok: boolean;
  readonly hops: readonly string[];
  readonly reason?: string;
}

export class RouterAgent {
  readonly links = new LinkRegistry<AgentLink>();
  readonly routes = new ForwardingTable();
  /** Peers whose links are cut by the fault hook: closed and refused both ways. */
  readonly blocked = new Set<string>();
  readonly sessions: ControllerSession[];
  private readonly log: RuntimeLog;
  private readonly parser = createFrameParser(() => undefined);
  private readonly confirmTimer: NodeJS.Timeout;
  private http: HttpServer | undefined;
  private linkServer: Server | undefined;
  private listenAddress: string | undefined;
  private readonly requestTimeoutMs: number;
  faultsSent = 0;

  private constructor(private readonly o: RouterAgentOptions) {
    this.log = o.log ?? (() => undefined);
    this.requestTimeoutMs = o.requestTimeoutMs ?? 5_000;
    this.sessions = [];
    this.confirmTimer = setInterval(() => void this.confirmRoutes(), o.confirmMs ?? 5_000);
  }

  static async start(o: RouterAgentOptions): Promise<RouterAgent> {
    const agent = new RouterAgent(o);
    if (o.listen) await agent.openListener(o.listen);
    for (const url of o.controllers) {
      agent.sessions.push(
        new ControllerSession({
          url,
          router: o.name,
          secret: o.secret,
          listen: agent.listenAddress,
          log: agent.log,
          heartbeatMs: o.heartbeatMs ?? 500,
          unresponsiveMs: o.unresponsiveMs ?? 2_000,
          onReady: (session, socket) => agent.controllerReady(session, socket),
          onDown: () => undefined,
        }),
      );
    }
    return agent;
  }

  get name(): string {
    return this.o.name;
  }

  get address(): string | undefined {
    return this.listenAddress;
  }

  /** Responsive controllers, fastest first. */
  rankedControllers(): ControllerSession[] {
    return this.sessions
      .filter((s) => s.responsive)
      .sort((a, b) => (a.rttMs ?? Infinity) - (b.rttMs ?? Infinity));
  }

  /** Asks the most responsive controller for a circuit; the next one when it does not answer. */
  async createCircuit(identity: string, service: string): Promise<Answer<WireCircuit>> {
    for (const session of this.rankedControllers()) {
      let reply: unknown;
      try {
        reply = await session.request(EVENTS.createCircuit, { identity, service }, this.requestTimeoutMs);
      } catch (err) {
        this.log('warn', 'controller did not answer a circuit request', {
          url: session.url,
          err: String(err),
        });
        continue;
      }
      const answer = answerSchema(wireCircuitSchema).safeParse(reply);
      if (answer.success) return answer.data as Answer<WireCircuit>;
      return { ok: false, code: 'ROUTE_FAILED', message: `controller ${session.url} answered nonsense` };
    }
    return { ok: false, code: 'NO_CONTROLLER', message: 'no responsive controller' };
  }

  /** Sends a probe along the circuit's links, hop by hop, from here: shows the routes work. */
  async probe(circuitId: string): Promise<ProbeResult> {
    return this.forwardProbe(circuitId, []);
  }

  /** Fault hook: cut the link to `peer` and refuse new ones until unblocked. */
  block(peer: string): void {
    this.blocked.add(peer);
    const link = this.links.toPeer(peer);
    if (link) this.closeLink(link, 'blocked');
  }

  unblock(peer: string): void {
    this.blocked.delete(peer);
  }

  status() {
    return {
      name: this.o.name,
      listen: this.listenAddress ?? null,
      controllers: this.sessions.map((s) => ({
        url: s.url,
        id: s.controllerId ?? null,
        name: s.controllerName ?? null,
        connected: s.connected,
        responsive: s.responsive,
        rttMs: s.rttMs ?? null,
      })),
      links: this.links.list().map((l) => ({ ...this.wire(l), peer: l.peer })),
      routes: this.routes.list(),
      faultsSent: this.faultsSent,
      blocked: [...this.blocked],
    };
  }

  async close(): Promise<void> {
    clearInterval(this.confirmTimer);
    for (const s of this.sessions) s.close();
    for (const l of this.links.list()) {
      clearInterval(l.timer);
      l.close();
    }
    if (this.linkServer) await new Promise<void>((resolve) => void this.linkServer?.close(() => resolve()));
    this.http?.closeAllConnections();
  }

  // ---- controllers ---------------------------------------------------------------------------

  private controllerReady(session: ControllerSession, socket: ClientSocket): void {
    const handle = <S extends z.ZodType>(
      event: string,
      schema: S,
      act: (m: z.output<S>) => Promise<unknown>,
    ): void => {
      socket.on(event, (payload: unknown, ack: unknown) => {
        if (typeof ack !== 'function') return;
        const parsed = schema.safeParse(payload);
        if (!parsed.success) {
          (ack as (r: unknown) => void)({
            ok: false,
            code: 'MALFORMED',
            message: 'the message does not parse',
          });
          return;
        }
        void act(parsed.data).then(
          (answer) => (ack as (r: unknown) => void)(answer),
          (err: unknown) =>
            (ack as (r: unknown) => void)({ ok: false, code: 'FAILED', message: String(err) }),
        );
      });
    };
    handle(EVENTS.dialLink, dialLinkSchema, async ({ peer, address }) => {
      if (this.blocked.has(peer)) return { ok: false, code: 'BLOCKED', message: `links to ${peer} are cut` };
      const { link, existing } = await this.links.dialOnce(peer, () => this.dial(peer, address));
      return { ok: true, value: { link: this.wire(link), existing } };
    });
    handle(EVENTS.route, routeSchema, async (route) => {
      for (const id of [route.previousLink, route.nextLink]) {
        if (id && !this.links.get(id))
          return { ok: false, code: 'UNKNOWN_LINK', message: `no link ${id} here` };
      }
      this.routes.put(route);
      return { ok: true };
    });
    handle(EVENTS.unroute, unrouteSchema, async ({ circuitId }) => ({ ok: this.routes.remove(circuitId) }));
    handle(EVENTS.dialCircuit, circuitAskSchema, ({ identity, service }) =>
      this.createCircuit(identity, service),
    );
    session.send(EVENTS.links, { links: this.links.list().map((l) => this.wire(l)) });
  }

  private toControllers(event: string, payload: unknown): void {
    for (const s of this.sessions) s.send(event, payload);
  }

  /** Routes naming a controller are confirmed with it; the ones it does not own are dropped. */
  private async confirmRoutes(): Promise<void> {
    await Promise.all(
      this.sessions.map(async (session) => {
        const owner = session.controllerId;
        if (!session.connected || !owner) return;
        const circuitIds = this.routes.ownedBy(owner);
        if (circuitIds.length === 0) return;
        try {
          const reply = confirmAnswerSchema.parse(
            await session.request(EVENTS.confirmRoutes, { circuitIds }, this.requestTimeoutMs),
          );
          for (const id of reply.unknown) {
            if (this.routes.get(id)?.owner === owner) this.routes.remove(id);
          }
        } catch {
          // Unanswered: keep the routes (the owner may be down; its circuits keep working).
        }
      }),
    );
  }

  /** A fault goes to the circuit's owner when it is responsive, else to every controller. */
  private sendFaults(linkId: string, reason: string): void {
    for (const route of this.routes.usingLink(linkId)) {
      const fault = { circuitId: route.circuitId, linkId, reason };
      const owner = this.sessions.find((s) => s.controllerId === route.owner && s.responsive);
      if (owner) owner.send(EVENTS.fault, fault);
      else this.toControllers(EVENTS.fault, fault);
      this.faultsSent += 1;
    }
  }

  // ---- links ---------------------------------------------------------------------------------

  private async openListener(listen: { host: string; port: number }): Promise<void> {
    const http = createServer((req, res) => void this.serveHttp(req, res));
    const server = new Server(http, { transports: ['websocket'], serveClient: false, parser: this.parser });
    server.use((_socket, next) => next(new Error('no such namespace')));
    const nsp = server.of(LINK_NAMESPACE);
    nsp.use((socket, next) => {
      const hello = checkLinkHello(this.o.secret, this.o.name, socket.handshake.auth);
      if (typeof hello === 'string' || this.blocked.has(hello.from) || this.links.get(hello.id)) {
        this.log('warn', 'refused a link', {
          reason: typeof hello === 'string' ? hello : 'blocked or duplicate id',
        });
        next(new Error('link refused'));
        return;
      }
      next();
    });
    nsp.on('connection', (socket: ServerSocket) => {
      const hello = checkLinkHello(this.o.secret, this.o.name, socket.handshake.auth);
      if (typeof hello === 'string') return void socket.disconnect(true);
      const link: AgentLink = {
        id: hello.id,
        peer: hello.from,
        dialer: hello.from,
        acceptor: this.o.name,
        latencyMs: 0,
        socket,
        close: () => socket.disconnect(true),
      };
      this.linkEvents(link);
      this.register(link);
    });
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(listen.port, listen.host, () => resolve());
    });
    this.http = http;
    this.linkServer = server;
    this.listenAddress = `${listen.host}:${(http.address() as AddressInfo).port}`;
  }

  private dial(peer: string, address: string): Promise<AgentLink> {
    const id = `${this.o.name}~${peer}~${randomBytes(4).toString('hex')}`;
    const socket = io(`http://${address}${LINK_NAMESPACE}`, {
      transports: ['websocket'],
      forceNew: true,
      reconnection: false,
      timeout: 5_000,
      parser: this.parser,
      auth: (cb) => cb(makeLinkHello(this.o.secret, id, this.o.name, peer)),
    });
    return new Promise((resolve, reject) => {
      const fail = (err: Error): void => {
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
          dialer: this.o.name,
          acceptor: peer,
          latencyMs: 0,
          socket,
          close: () => socket.disconnect(),
        };
        this.linkEvents(link);
        void this.measure(link).then(() => {
          link.timer = setInterval(() => void this.measure(link), this.o.linkPingMs ?? 1_000);
          resolve(this.register(link));
        });
      });
    });
  }

  /** Registers a new connection; of two links to one peer both ends keep the same one. */
  private register(link: AgentLink): AgentLink {
    const { kept, closed } = this.links.add(link);
    if (closed) {
      clearInterval(closed.timer);
      closed.close();
      if (closed !== link) {
        this.toControllers(EVENTS.link, { op: 'down', id: closed.id, reason: 'duplicate' });
        this.sendFaults(closed.id, 'duplicate link closed');
      }
    }
    if (kept === link) {
      this.log('info', 'link up', { id: link.id, peer: link.peer });
      this.toControllers(EVENTS.link, { op: 'up', link: this.wire(link) });
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
      const route = this.routes.get(parsed.data.circuitId);
      const reply = ack as (r: ProbeResult) => void;
      if (!route || route.previousLink !== link.id) {
        reply({
          ok: false,
          hops: [...parsed.data.hops, this.o.name],
          reason: `no route for it at ${this.o.name}`,
        });
        return;
      }
      void this.forwardProbe(parsed.data.circuitId, parsed.data.hops).then(reply);
    });
    socket.on('disconnect', () => this.closeLink(link, 'connection closed'));
  }

  private async forwardProbe(circuitId: string, hops: readonly string[]): Promise<ProbeResult> {
    const here = [...hops, this.o.name];
    const route = this.routes.get(circuitId);
    if (!route) return { ok: false, hops: here, reason: `no route at ${this.o.name}` };
    if (!route.nextLink) return { ok: true, hops: here };
    const link = this.links.get(route.nextLink);
    if (!link) return { ok: false, hops: here, reason: `link ${route.nextLink} is gone at ${this.o.name}` };
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
    if (this.links.get(link.id) !== link) return;
    if (Math.abs(ms - old) >= 1 && Math.abs(ms - old) >= 0.2 * old) {
      this.toControllers(EVENTS.link, { op: 'latency', id: link.id, latencyMs: ms });
    }
  }

  private closeLink(link: AgentLink, reason: string): void {
    clearInterval(link.timer);
    link.close();
    if (!this.links.remove(link.id)) return;
    this.log('info', 'link down', { id: link.id, peer: link.peer, reason });
    this.toControllers(EVENTS.link, { op: 'down', id: link.id, reason });
    this.sendFaults(link.id, reason);
  }

  private wire(link: AgentLink): WireLink {
    return { id: link.id, dialer: link.dialer, acceptor: link.acceptor, latencyMs: link.latencyMs };
  }

  // ---- the status endpoint (tests, the lab, curious admins) ------------------------------------

  private async serveHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (req.headers.authorization !== `Bearer ${this.o.secret}`) return send(401, { error: 'unauthorized' });
    const url = new URL(req.url ?? '/', 'http://router');
    const peer = url.searchParams.get('peer') ?? '';
    if (req.method === 'GET' && url.pathname === '/status') return send(200, this.status());
    if (req.method === 'POST' && url.pathname === '/faults/block' && peer) {
      this.block(peer);
      return send(200, { blocked: [...this.blocked] });
    }
    if (req.method === 'POST' && url.pathname === '/faults/unblock' && peer) {
      this.unblock(peer);
      return send(200, { blocked: [...this.blocked] });
    }
    if (req.method === 'POST' && url.pathname === '/probe') {
      return send(200, await this.probe(url.searchParams.get('circuit') ?? ''));
    }
    if (req.method === 'POST' && url.pathname === '/circuits') {
      const identity = url.searchParams.get('identity') ?? '';
      const service = url.searchParams.get('service') ?? '';
      return send(200, await this.createCircuit(identity, service));
    }
    send(404, { error: 'not found' });
  }
}
