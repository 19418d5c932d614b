/**
 * The router agent (`meshdesk router`): stands for an edge/transit router. Composes its
 * controller sessions (controller-sessions.ts: circuits through the most responsive controller,
 * faults to a circuit's owner, route confirmations), its links to other routers
 * (router-links.ts), its forwarding table, and the status endpoint (status-endpoint.ts) served
 * on the same listen address as the links.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import pino, { type Logger } from 'pino';
import { EVENTS, type Answer, type WireCircuit } from '../runtime/protocol.js';
import { ControllerSessions } from './controller-sessions.js';
import { ForwardingTable } from './forwarding-table.js';
import { RouterLinks, type ProbeResult } from './router-links.js';
import { statusAuthorization, statusEndpoint, type RouterControls } from './status-endpoint.js';
import type { RouterCredentials } from './credentials.js';
import { RouterRenewal } from './renewal.js';
import { TrustList } from './trust-list.js';
import { fingerprint } from '../pki/ca.js';

/** The TLS context of the router's listener (links and status): its certificate, TLS 1.3. */
function serverContext(credentials: RouterCredentials) {
  return { key: credentials.key, cert: credentials.cert, ca: credentials.ca, minVersion: 'TLSv1.3' as const };
}

export interface RouterAgentOptions {
  /** Base URLs of the controllers' cluster listeners, e.g. https://127.0.0.1:8541 */
  readonly controllers: readonly string[];
  readonly credentials: RouterCredentials;
  /** Where to accept links (and serve the status endpoint); without it the router only dials. */
  readonly listen?: { readonly host: string; readonly port: number };
  /** Serve the link fault hooks (`/faults/*`): tests and the lab only. */
  readonly faults?: boolean;
  readonly log?: Logger;
  readonly heartbeatMs?: number;
  readonly unresponsiveMs?: number;
  readonly linkPingMs?: number;
  readonly confirmMs?: number;
  readonly requestTimeoutMs?: number;
  /** The router's clock for renewal (tests drive it). */
  readonly now?: () => Date;
  /** How often to see whether the certificate is due for renewal (default hourly). */
  readonly renewCheckMs?: number;
  /** Keeps renewed credentials (`meshdesk router` rewrites its identity file). */
  readonly onRenewed?: (renewed: RouterCredentials) => Promise<void>;
}

export class RouterAgent implements RouterControls {
  readonly routes = new ForwardingTable();
  readonly links: RouterLinks;
  readonly controllers: ControllerSessions;
  /** The controllers' word on which certificates are good. */
  readonly trust = new TrustList();
  readonly renewal: RouterRenewal;
  /** The credentials in use: renewal swaps them. */
  private credentials: RouterCredentials;
  private http: HttpsServer | undefined;
  private readonly log: Logger;
  private listenAddress: string | undefined;

  private constructor(private readonly o: RouterAgentOptions) {
    const log = (this.log = o.log ?? pino({ level: 'silent' }));
    this.credentials = o.credentials;
    const tell = (payload: unknown): void => this.controllers.broadcast(EVENTS.link, payload);
    this.links = new RouterLinks({
      credentials: () => this.credentials,
      trust: this.trust,
      log,
      routes: this.routes,
      pingMs: o.linkPingMs ?? 1_000,
      reports: {
        up: (link) => tell({ op: 'up', link }),
        down: (id, reason) => tell({ op: 'down', id, reason }),
        latency: (id, latencyMs) => tell({ op: 'latency', id, latencyMs }),
        faults: (linkId, reason) => this.controllers.sendFaults(linkId, reason),
      },
    });
    this.controllers = new ControllerSessions({
      credentials: () => this.credentials,
      trust: this.trust,
      // A rotated intermediate: renew at once (the check does nothing otherwise); a new root
      // that became the cluster's: trust it.
      onTrustChanged: () => {
        void this.renewal.check();
        void this.adoptRoot();
      },
      log,
      links: this.links,
      routes: this.routes,
      heartbeatMs: o.heartbeatMs ?? 500,
      unresponsiveMs: o.unresponsiveMs ?? 2_000,
      confirmMs: o.confirmMs ?? 5_000,
      requestTimeoutMs: o.requestTimeoutMs ?? 5_000,
    });
    this.renewal = new RouterRenewal({
      current: () => this.credentials,
      issuer: () => this.trust.issuer(),
      ask: (csr) => this.controllers.requestRenewal(csr),
      install: (renewed) => this.install(renewed),
      log,
      ...(o.now ? { now: o.now } : {}),
      ...(o.renewCheckMs !== undefined ? { checkEveryMs: o.renewCheckMs } : {}),
    });
  }

  static async start(o: RouterAgentOptions): Promise<RouterAgent> {
    const agent = new RouterAgent(o);
    // Listening first: the controllers are told where other routers reach this one.
    if (o.listen) await agent.listen(o.listen);
    agent.controllers.connect(o.controllers, agent.listenAddress);
    agent.renewal.start();
    return agent;
  }

  /** Its id, the one its certificate names: what it goes by on the wire. */
  get name(): string {
    return this.credentials.routerId;
  }

  get address(): string | undefined {
    return this.listenAddress;
  }

  createCircuit(identity: string, service: string): Promise<Answer<WireCircuit>> {
    return this.controllers.createCircuit(identity, service);
  }

  probe(circuitId: string): Promise<ProbeResult> {
    return this.links.probe(circuitId);
  }

  block(peer: string): void {
    this.links.block(peer);
  }

  unblock(peer: string): void {
    this.links.unblock(peer);
  }

  blocked(): string[] {
    return [...this.links.blocked];
  }

  status() {
    return {
      name: this.name,
      listen: this.listenAddress ?? null,
      controllers: this.controllers.status(),
      links: this.links.status(),
      routes: this.routes.list(),
      faultsSent: this.controllers.faultsSent,
      linksRefused: this.links.refused,
      blocked: this.blocked(),
    };
  }

  async close(): Promise<void> {
    this.renewal.stop();
    this.controllers.close();
    await this.links.close();
    this.http?.closeAllConnections();
  }

  /**
   * Trusts the cluster's root as the controllers name it, and only it, once it differs from the
   * one this router has (a rotation that introduced a new root finished); kept like a renewal.
   */
  private async adoptRoot(): Promise<void> {
    const root = this.trust.root();
    if (root === undefined || root === this.credentials.ca) return;
    await this.install({ ...this.credentials, ca: root });
    this.log.warn({ root: fingerprint(root) }, 'trusts the cluster’s new root CA, and only it');
  }

  /**
   * Renewed credentials: kept first, then served to new connections and used for every dial;
   * the controller sessions move onto them now. Connections made on the earlier certificate carry
   * on (it stays good, model/router-certificates.ts).
   */
  private async install(credentials: RouterCredentials): Promise<void> {
    // A renewal answered before the root changed must not bring the earlier root back.
    const renewed = { ...credentials, ca: this.trust.root() ?? credentials.ca };
    await this.o.onRenewed?.(renewed);
    this.credentials = renewed;
    this.http?.setSecureContext({ ...serverContext(renewed) });
    this.controllers.reconnectAll();
  }

  private async listen(listen: { host: string; port: number }): Promise<void> {
    const { credentials } = this;
    const serve = statusEndpoint(statusAuthorization(credentials, this.trust), this, {
      faults: this.o.faults === true,
    });
    const handler = (req: IncomingMessage, res: ServerResponse): void => void serve(req, res);
    // Mutual TLS only, certificates of the cluster only (links and status).
    const http = createHttpsServer(
      { ...serverContext(credentials), requestCert: true, rejectUnauthorized: true },
      handler,
    );
    this.links.accept(http);
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(listen.port, listen.host, () => resolve());
    });
    this.http = http;
    this.listenAddress = `${listen.host}:${(http.address() as AddressInfo).port}`;
  }
}
