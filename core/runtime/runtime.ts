/**
 * ControllerRuntime: the runtime data of one controller, composed — the link table fed by its
 * routers, the circuits it owns, path selection, and the router channel. The composition root
 * (core/controller.ts) creates it on the cluster listener; the API reads it.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { runtimeStatus } from '../../contract/index.js';
import type { Namespace, Socket } from 'socket.io';
import { certificateCurrent, enrolledRouters } from '../model/router-certificates.js';
import { readClusterCa } from '../model/pki.js';
import type { ModelDatabase } from '../model/database.js';
import { CircuitService, type CircuitChange, type ModelRouter } from './circuit-service.js';
import type { Circuit } from './circuit-table.js';
import { DropCounter } from './drops.js';
import { RuntimeError, isRuntimeErrorCode } from './errors.js';
import { missingLinks, pairKey, type LinkCandidate } from './link-plan.js';
import { LinkTable, type LinkChange, type LinkEntry } from './link-table.js';
import { modelView } from './model-view.js';
import {
  EVENTS,
  answerSchema,
  dialLinkAnswerSchema,
  wireCircuitSchema,
  type Answer,
  type Fault,
  type LinkEvent,
  type Renewed,
  type WireCircuit,
  type WireLink,
} from './protocol.js';
import { RouterChannel, type RouterChannelHandler } from './router-channel.js';
import type { RouteEntry } from './forwarding.js';
import type { LinkReport, RouterId } from './types.js';

export type RuntimeChange = LinkChange | CircuitChange;

export interface RuntimeOptions {
  readonly self: string;
  readonly selfName: string;
  /** Router certificates name routers of this cluster. */
  readonly clusterId: string;
  /** The model's applied index (it dates the peer lists sent to routers). */
  readonly appliedIndex: () => number;
  /** The controllers removed from the cluster (core/cluster/controller-revocation.ts), told to routers. */
  readonly revokedControllers: () => string[];
  /**
   * The intermediate CAs' fingerprints whose certificates are good, the one that signs now first
   * (core/cluster/trusted-issuers.ts), told to routers; undefined before the model has a CA.
   */
  readonly trustedIssuers: () => readonly string[] | undefined;
  /**
   * Signs a router's renewal CSR and records the new certificate in the model (the router proved
   * `serial`); throws with a `code` when refused.
   */
  readonly renewRouterCertificate: (routerId: string, serial: string, csr: string) => Promise<Renewed>;
  readonly namespace: Namespace;
  /** A router proved itself on its connection (PeerTransport.admit). */
  readonly admit: (socket: Socket) => void;
  readonly database: () => ModelDatabase;
  readonly log: Logger;
  /** How long a request to a router may take (default 5 s). */
  readonly requestTimeoutMs?: number;
  /** How often missing links are asked for (default 1 s). */
  readonly reconcileMs?: number;
}

export interface RouterView {
  readonly id: RouterId;
  readonly name: string;
  readonly listen: string | null;
  readonly connectedSince: string;
}

export interface LinkView extends LinkEntry {
  readonly dialerName: string;
  readonly acceptorName: string;
}

export interface CircuitView extends Circuit {
  readonly ownerName: string;
  readonly routerNames: readonly string[];
}

/** `GET /runtime`: the contract's shape. */
export type RuntimeStatus = z.infer<typeof runtimeStatus>;

/** A link request to a dialer is repeated only after this long without the link appearing. */
const DIAL_RETRY_MS = 5_000;

export class ControllerRuntime implements RouterChannelHandler {
  readonly links: LinkTable;
  readonly circuits: CircuitService;
  readonly channel: RouterChannel;
  readonly drops: DropCounter;
  private readonly model;
  private readonly listeners = new Set<(change: RuntimeChange) => void>();
  private readonly asked = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;
  private readonly requestTimeoutMs: number;
  private faultsReceived = 0;
  private faultsNotOwned = 0;
  private reroutes = 0;

  constructor(private readonly o: RuntimeOptions) {
    this.model = modelView(o.database);
    this.requestTimeoutMs = o.requestTimeoutMs ?? 5_000;
    this.drops = new DropCounter(o.log);
    this.links = new LinkTable((change) => this.linkChanged(change));
    this.channel = new RouterChannel({
      namespace: o.namespace,
      self: o.self,
      selfName: o.selfName,
      clusterId: o.clusterId,
      routerById: (id) => this.routerById(id),
      certificateCurrent: (id, serial) => certificateCurrent(o.database(), id, serial),
      peers: () => ({
        index: o.appliedIndex(),
        routers: enrolledRouters(o.database()),
        revokedControllers: o.revokedControllers(),
        ...issuersNow(o.trustedIssuers()),
        ...rootNow(o.database()),
      }),
      handler: this,
      drops: this.drops,
      log: o.log,
      admit: o.admit,
    });
    this.circuits = new CircuitService({
      self: o.self,
      model: this.model,
      links: this.links,
      newId: randomUUID,
      sender: {
        connected: (router) => this.channel.connected(router),
        route: (router, entry) => this.sendRoute(router, entry),
        unroute: async (router, circuitId, reason) => {
          await this.channel.request(router, EVENTS.unroute, { circuitId, reason }, this.requestTimeoutMs);
        },
      },
      onChange: (change) => {
        if (change.type === 'circuit.rerouted') this.reroutes += 1;
        this.emit(change);
      },
    });
    this.timer = setInterval(() => {
      // Also here, not only after applies: a snapshot restore replaces the model silently.
      this.channel.revalidate();
      this.reconcile();
    }, o.reconcileMs ?? 1_000);
    this.timer.unref();
  }

  onChange(listener: (change: RuntimeChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ---- the router channel's handler -------------------------------------------------------

  connected(): void {
    this.reconcile();
  }

  disconnected(router: RouterId): void {
    this.links.routerGone(router);
  }

  reportLinks(router: RouterId, links: readonly WireLink[]): void {
    this.links.replace(router, this.toReports(router, links));
  }

  reportLink(router: RouterId, event: LinkEvent): void {
    if (event.op === 'up') {
      const [report] = this.toReports(router, [event.link]);
      if (report) this.refused(router, this.links.up(router, report));
    } else if (event.op === 'down') {
      this.refused(router, this.links.down(router, event.id, event.reason));
    } else {
      this.refused(router, this.links.latency(router, event.id, event.latencyMs));
    }
  }

  fault(router: RouterId, fault: Fault): void {
    this.faultsReceived += 1;
    const from = this.routerName(router);
    const outcome = this.circuits.fault(router, {
      circuitId: fault.circuitId,
      ...(fault.linkId !== undefined ? { linkId: fault.linkId } : {}),
      reason: `fault from ${from}: ${fault.reason}`,
    });
    if (outcome === 'unknown') {
      this.faultsNotOwned += 1;
      this.drops.drop('UNKNOWN_CIRCUIT', { router, circuit: fault.circuitId, reason: fault.reason });
    } else if (outcome === 'off-path') {
      // Counted, and logged at most once a second: a router cannot tear down others' circuits.
      this.drops.drop('FAULT_OFF_PATH', { router: from, circuit: fault.circuitId, link: fault.linkId });
    }
  }

  async createCircuit(router: RouterId, identity: string, service: string): Promise<Answer<WireCircuit>> {
    try {
      const circuit = await this.circuits.create({ identity, service, ingress: router });
      return { ok: true, value: this.toWire(circuit) };
    } catch (err) {
      return refusal(err);
    }
  }

  async renewCertificate(router: RouterId, serial: string, csr: string): Promise<Answer<Renewed>> {
    try {
      const renewed = await this.o.renewRouterCertificate(router, serial, csr);
      this.o.log.info(
        { router: this.routerName(router), previous: serial },
        'renewed a router’s certificate',
      );
      return { ok: true, value: renewed };
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      return {
        ok: false,
        code: typeof code === 'string' ? code : 'RENEWAL_FAILED',
        message: String((err as Error).message ?? err),
      };
    }
  }

  confirmRoutes(_router: RouterId, circuitIds: readonly string[]): string[] {
    return circuitIds.filter((id) => !this.circuits.circuits.has(id));
  }

  // ---- what the API uses --------------------------------------------------------------------

  /**
   * A circuit asked for by hand: the ingress router is asked to dial, as a client would, and
   * creates the circuit through its most responsive controller (perhaps another one).
   */
  async dialThroughRouter(identity: string, service: string, ingress: string): Promise<WireCircuit> {
    const router = this.model.router(ingress);
    if (!router) throw new RuntimeError('UNKNOWN_ROUTER', `no router '${ingress}'`);
    if (!this.channel.connected(router.id)) {
      throw new RuntimeError(
        'ROUTER_NOT_CONNECTED',
        `router ${router.name} is not connected to this controller`,
      );
    }
    const reply = await this.channel.request(
      router.id,
      EVENTS.dialCircuit,
      { identity, service },
      this.requestTimeoutMs * 2,
    );
    const answer = answerSchema(wireCircuitSchema).safeParse(reply);
    if (!answer.success) throw new RuntimeError('ROUTE_FAILED', `router ${router.name} answered nonsense`);
    if (!answer.data.ok) {
      const code = isRuntimeErrorCode(answer.data.code) ? answer.data.code : 'ROUTE_FAILED';
      throw new RuntimeError(code, answer.data.message);
    }
    // Routers name routers by id; people read names.
    const value = answer.data.value;
    return { ...value, routers: value.routers.map((id) => this.routerName(id)) };
  }

  listLinks(): LinkView[] {
    return this.links.list().map((l) => ({
      ...l,
      dialerName: this.routerName(l.dialer),
      acceptorName: this.routerName(l.acceptor),
    }));
  }

  listCircuits(): CircuitView[] {
    return this.circuits.circuits.list().map((c) => this.view(c));
  }

  view(circuit: Circuit): CircuitView {
    return {
      ...circuit,
      ownerName: this.o.selfName,
      routerNames: circuit.path.routers.map((r) => this.routerName(r)),
    };
  }

  status(): RuntimeStatus {
    return {
      controller: this.o.self,
      routers: this.channel.list().map((s) => ({
        id: s.router.id,
        name: s.router.name,
        listen: s.listen ?? null,
        connectedSince: new Date(s.since).toISOString(),
        certificateSerial: s.serial,
      })),
      links: this.links.size,
      circuits: this.circuits.circuits.size,
      dropped: this.drops.snapshot(),
      droppedTotal: this.drops.total,
      refusedHandshakes: this.channel.refusedHandshakes,
      sessionsCut: this.channel.sessionsCut,
      faultsReceived: this.faultsReceived,
      faultsNotOwned: this.faultsNotOwned,
      reroutes: this.reroutes,
      delayMs: this.channel.delay,
    };
  }

  /**
   * What routers may trust changed (an apply touched routers or enrolled one, or a member was
   * removed): cut the sessions the model no longer admits and tell the routers.
   */
  trustChanged(): void {
    this.channel.revalidate();
  }

  close(): void {
    clearInterval(this.timer);
    this.channel.close();
  }

  // ---- inside -------------------------------------------------------------------------------

  private linkChanged(change: LinkChange): void {
    if (change.type === 'link.down') {
      this.asked.delete(pairKey(change.link.dialer, change.link.acceptor));
      void this.circuits.linkFailed(change.link.id, `link ${change.link.id} down: ${change.reason}`);
    }
    this.emit(change);
  }

  /** Asks dialers for the links missing between the routers connected here. */
  private reconcile(): void {
    // Routers know each other by id: the dialer is asked for the acceptor's.
    const candidates: LinkCandidate[] = this.channel.list().map((s) => ({
      id: s.router.id,
      name: s.router.name,
      ...(s.listen ? { listen: s.listen } : {}),
    }));
    const now = Date.now();
    for (const request of missingLinks(candidates, this.links.reports())) {
      const key = pairKey(request.dialer.id, request.acceptor.id);
      if (now - (this.asked.get(key) ?? -Infinity) < DIAL_RETRY_MS) continue;
      this.asked.set(key, now);
      void this.channel
        .request(
          request.dialer.id,
          EVENTS.dialLink,
          { peer: request.acceptor.id, address: request.acceptor.listen },
          this.requestTimeoutMs,
        )
        .then((reply) => {
          const answer = answerSchema(dialLinkAnswerSchema).safeParse(reply);
          if (!answer.success)
            return this.drops.drop('MALFORMED', { router: request.dialer.name, event: 'link.dial answer' });
          if (!answer.data.ok) return;
          const [report] = this.toReports(request.dialer.id, [answer.data.value.link]);
          if (report) this.refused(request.dialer.id, this.links.up(request.dialer.id, report));
        })
        .catch((err: unknown) =>
          this.o.log.info({ dialer: request.dialer.name, err: String(err) }, 'link request failed'),
        );
    }
  }

  private async sendRoute(router: RouterId, entry: RouteEntry): Promise<void> {
    const reply = await this.channel.request(router, EVENTS.route, entry, this.requestTimeoutMs);
    const ok = (reply as { ok?: unknown } | null)?.ok === true;
    if (!ok) throw new Error(`router ${this.routerName(router)} refused the route`);
  }

  /** Wire links as reports, of routers of the model only; others are dropped and counted. */
  private toReports(router: RouterId, links: readonly WireLink[]): LinkReport[] {
    const reports: LinkReport[] = [];
    for (const link of links) {
      const dialer = this.routerById(link.dialer);
      const acceptor = this.routerById(link.acceptor);
      if (!dialer || !acceptor) {
        this.drops.drop('UNKNOWN_LINK_END', { router: this.routerName(router), link: link.id });
        continue;
      }
      reports.push({ id: link.id, dialer: dialer.id, acceptor: acceptor.id, latencyMs: link.latencyMs });
    }
    return reports;
  }

  private refused(router: RouterId, refusal: string | undefined): void {
    if (refusal) this.drops.drop(refusal as 'NOT_AN_END', { router: this.routerName(router) });
  }

  /** A router of the model by its id (the model's lookup also takes names: not here). */
  private routerById(id: string): ModelRouter | undefined {
    const r = this.model.router(id);
    return r && r.id === id ? r : undefined;
  }

  /** How people see a router: its model name. */
  private routerName(id: RouterId): string {
    return this.channel.session(id)?.router.name ?? this.model.router(id)?.name ?? id;
  }

  private toWire(circuit: Circuit): WireCircuit {
    return {
      id: circuit.id,
      owner: circuit.owner,
      ownerName: this.o.selfName,
      identity: this.model.identity(circuit.identityId)?.name ?? circuit.identityId,
      service: this.model.service(circuit.serviceId)?.name ?? circuit.serviceId,
      routers: [...circuit.path.routers],
      links: [...circuit.path.links],
      cost: Math.round(circuit.path.cost * 100) / 100,
    };
  }

  private emit(change: RuntimeChange): void {
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (err) {
        this.o.log.error({ err: String(err) }, 'runtime listener threw');
      }
    }
  }
}

/** The root CA as routers are told it (absent until the model has one). */
function rootNow(db: ModelDatabase): { root?: string } {
  const ca = readClusterCa(db);
  return ca ? { root: ca.rootCertPem } : {};
}

/** The intermediate CAs as routers are told them (absent until the model has one). */
function issuersNow(trusted: readonly string[] | undefined): { issuer?: string; issuers?: string[] } {
  return trusted?.[0] ? { issuer: trusted[0], issuers: [...trusted] } : {};
}

function refusal(err: unknown): Answer<never> {
  if (err instanceof RuntimeError) return { ok: false, code: err.code, message: err.message };
  return { ok: false, code: 'ROUTE_FAILED', message: String((err as Error).message ?? err) };
}
