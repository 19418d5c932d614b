/**
 * The router's side towards its controllers: one ControllerSession each, the requests they send
 * (dial a link, route, unroute, dial a circuit), what the router tells them (links, faults),
 * circuits created through the most responsive one, and the periodic confirmation of routes so
 * that a controller can drop the ones it does not own.
 */
import type { Logger } from 'pino';
import type { Socket as ClientSocket } from 'socket.io-client';
import type { z } from 'zod';
import {
  EVENTS,
  answerSchema,
  circuitAskSchema,
  confirmAnswerSchema,
  dialLinkSchema,
  peersSchema,
  renewedSchema,
  routeSchema,
  unrouteSchema,
  wireCircuitSchema,
  type Answer,
  type Renewed,
  type WireCircuit,
} from '../runtime/protocol.js';
import { ControllerSession } from './controller-session.js';
import type { RouterCredentials } from './credentials.js';
import type { ForwardingTable } from './forwarding-table.js';
import type { RouterLinks } from './router-links.js';
import type { TrustList } from './trust-list.js';

export interface ControllerSessionsOptions {
  readonly credentials: () => RouterCredentials;
  /** The controllers' word on which certificates are good (trust-list.ts). */
  readonly trust: TrustList;
  /** The controllers' word changed (after links and sessions were checked against it). */
  readonly onTrustChanged?: () => void;
  readonly log: Logger;
  readonly links: RouterLinks;
  readonly routes: ForwardingTable;
  readonly heartbeatMs: number;
  readonly unresponsiveMs: number;
  readonly confirmMs: number;
  readonly requestTimeoutMs: number;
}

export class ControllerSessions {
  readonly sessions: ControllerSession[] = [];
  faultsSent = 0;
  private readonly confirmTimer: NodeJS.Timeout;

  constructor(private readonly o: ControllerSessionsOptions) {
    this.confirmTimer = setInterval(() => void this.confirmRoutes(), o.confirmMs);
  }

  /** Connects to every controller; `listen` is where other routers reach this one. */
  connect(urls: readonly string[], listen: string | undefined): void {
    for (const url of urls) {
      this.sessions.push(
        new ControllerSession({
          url,
          credentials: this.o.credentials,
          revoked: (id) => this.o.trust.controllerRevoked(id),
          issuerTrusted: (issuer) => this.o.trust.issuerTrusted(issuer),
          listen,
          log: this.o.log,
          heartbeatMs: this.o.heartbeatMs,
          unresponsiveMs: this.o.unresponsiveMs,
          onReady: (session, socket) => this.ready(session, socket),
          onDown: () => undefined,
        }),
      );
    }
  }

  /** Responsive controllers, fastest first. */
  ranked(): ControllerSession[] {
    return this.sessions
      .filter((s) => s.responsive)
      .sort((a, b) => (a.rttMs ?? Infinity) - (b.rttMs ?? Infinity));
  }

  /** Asks the most responsive controller for a circuit; the next one when it does not answer. */
  async createCircuit(identity: string, service: string): Promise<Answer<WireCircuit>> {
    for (const session of this.ranked()) {
      let reply: unknown;
      try {
        reply = await session.request(EVENTS.createCircuit, { identity, service }, this.o.requestTimeoutMs);
      } catch (err) {
        this.o.log.warn(
          { url: session.url, err: String(err) },
          'controller did not answer a circuit request',
        );
        continue;
      }
      const answer = answerSchema(wireCircuitSchema).safeParse(reply);
      if (answer.success) return answer.data as Answer<WireCircuit>;
      return { ok: false, code: 'ROUTE_FAILED', message: `controller ${session.url} answered nonsense` };
    }
    return { ok: false, code: 'NO_CONTROLLER', message: 'no responsive controller' };
  }

  /** Asks the most responsive controller to sign a renewal CSR; the next one when it cannot. */
  async requestRenewal(csr: string): Promise<Renewed> {
    let last = 'no responsive controller';
    for (const session of this.ranked()) {
      try {
        const reply = await session.request(EVENTS.renew, { csr }, this.o.requestTimeoutMs);
        const answer = answerSchema(renewedSchema).safeParse(reply);
        if (!answer.success) last = `controller ${session.url} answered nonsense`;
        else if (answer.data.ok) return answer.data.value;
        else last = `${answer.data.code}: ${answer.data.message}`;
      } catch (err) {
        last = String(err);
      }
    }
    throw new Error(`no controller renewed the certificate (${last})`);
  }

  /** Every session connects again on the credentials as they are now (after a renewal). */
  reconnectAll(): void {
    for (const s of this.sessions) s.reconnect();
  }

  broadcast(event: string, payload: unknown): void {
    for (const s of this.sessions) s.send(event, payload);
  }

  /** A fault goes to the circuit's owner when it is responsive, else to every controller. */
  sendFaults(linkId: string, reason: string): void {
    for (const route of this.o.routes.usingLink(linkId)) {
      const fault = { circuitId: route.circuitId, linkId, reason };
      const owner = this.sessions.find((s) => s.controllerId === route.owner && s.responsive);
      if (owner) owner.send(EVENTS.fault, fault);
      else this.broadcast(EVENTS.fault, fault);
      this.faultsSent += 1;
    }
  }

  /** The sessions as the status endpoint shows them. */
  status() {
    return this.sessions.map((s) => ({
      url: s.url,
      id: s.controllerId ?? null,
      name: s.controllerName ?? null,
      connected: s.connected,
      responsive: s.responsive,
      rttMs: s.rttMs ?? null,
      refusedRevoked: s.refusedRevoked,
    }));
  }

  close(): void {
    clearInterval(this.confirmTimer);
    for (const s of this.sessions) s.close();
  }

  /** An authenticated controller: answer its requests, then report every link we have. */
  private ready(session: ControllerSession, socket: ClientSocket): void {
    const { links, routes } = this.o;
    const handle = <S extends z.ZodType>(
      event: string,
      schema: S,
      act: (m: z.output<S>) => Promise<unknown>,
    ): void => {
      socket.on(event, (payload: unknown, ack: unknown) => {
        if (typeof ack !== 'function') return;
        const reply = ack as (r: unknown) => void;
        const parsed = schema.safeParse(payload);
        if (!parsed.success) {
          reply({ ok: false, code: 'MALFORMED', message: 'the message does not parse' });
          return;
        }
        void act(parsed.data).then(reply, (err: unknown) =>
          reply({ ok: false, code: 'FAILED', message: String(err) }),
        );
      });
    };
    socket.on(EVENTS.peers, (payload: unknown) => {
      const peers = peersSchema.safeParse(payload);
      if (!peers.success || !this.o.trust.update(peers.data)) return;
      links.trustChanged();
      for (const s of this.sessions) {
        if (s.controllerId && this.o.trust.controllerRevoked(s.controllerId))
          s.drop('the controller was removed from the cluster: its certificate is revoked');
        // Its renewed certificate is good: move onto it, make before break.
        else if (s.controllerId && !this.o.trust.issuerTrusted(s.controllerIssuer)) s.reconnect();
      }
      this.o.onTrustChanged?.();
    });
    handle(EVENTS.dialLink, dialLinkSchema, async ({ peer, address }) => {
      if (links.blocked.has(peer)) return { ok: false, code: 'BLOCKED', message: `links to ${peer} are cut` };
      return { ok: true, value: await links.dialOnce(peer, address) };
    });
    handle(EVENTS.route, routeSchema, async (route) => {
      for (const id of [route.previousLink, route.nextLink]) {
        if (id && !links.has(id)) return { ok: false, code: 'UNKNOWN_LINK', message: `no link ${id} here` };
      }
      routes.put(route);
      return { ok: true };
    });
    handle(EVENTS.unroute, unrouteSchema, async ({ circuitId }) => ({ ok: routes.remove(circuitId) }));
    handle(EVENTS.dialCircuit, circuitAskSchema, ({ identity, service }) =>
      this.createCircuit(identity, service),
    );
    session.send(EVENTS.links, { links: links.list() });
  }

  /** Routes naming a controller are confirmed with it; the ones it does not own are dropped. */
  private async confirmRoutes(): Promise<void> {
    const { routes } = this.o;
    await Promise.all(
      this.sessions.map(async (session) => {
        const owner = session.controllerId;
        if (!session.connected || !owner) return;
        const circuitIds = routes.ownedBy(owner);
        if (circuitIds.length === 0) return;
        try {
          const reply = confirmAnswerSchema.parse(
            await session.request(EVENTS.confirmRoutes, { circuitIds }, this.o.requestTimeoutMs),
          );
          for (const id of reply.unknown) {
            if (routes.get(id)?.owner === owner) routes.remove(id);
          }
        } catch {
          // Unanswered: keep the routes (the owner may be down; its circuits keep working).
        }
      }),
    );
  }
}
