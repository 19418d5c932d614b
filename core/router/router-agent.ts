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
import { TrustList } from './trust-list.js';

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
}

export class RouterAgent implements RouterControls {
  readonly routes = new ForwardingTable();
  readonly links: RouterLinks;
  readonly controllers: ControllerSessions;
  /** The controllers' word on which certificates are good. */
  readonly trust = new TrustList();
  private http: HttpsServer | undefined;
  private listenAddress: string | undefined;

  private constructor(private readonly o: RouterAgentOptions) {
    const log = o.log ?? pino({ level: 'silent' });
    const tell = (payload: unknown): void => this.controllers.broadcast(EVENTS.link, payload);
    this.links = new RouterLinks({
      credentials: o.credentials,
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
      credentials: o.credentials,
      trust: this.trust,
      log,
      links: this.links,
      routes: this.routes,
      heartbeatMs: o.heartbeatMs ?? 500,
      unresponsiveMs: o.unresponsiveMs ?? 2_000,
      confirmMs: o.confirmMs ?? 5_000,
      requestTimeoutMs: o.requestTimeoutMs ?? 5_000,
    });
  }

  static async start(o: RouterAgentOptions): Promise<RouterAgent> {
    const agent = new RouterAgent(o);
    // Listening first: the controllers are told where other routers reach this one.
    if (o.listen) await agent.listen(o.listen);
    agent.controllers.connect(o.controllers, agent.listenAddress);
    return agent;
  }

  /** Its id, the one its certificate names: what it goes by on the wire. */
  get name(): string {
    return this.o.credentials.routerId;
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
    this.controllers.close();
    await this.links.close();
    this.http?.closeAllConnections();
  }

  private async listen(listen: { host: string; port: number }): Promise<void> {
    const { credentials } = this.o;
    const serve = statusEndpoint(statusAuthorization(credentials, this.trust), this, {
      faults: this.o.faults === true,
    });
    const handler = (req: IncomingMessage, res: ServerResponse): void => void serve(req, res);
    // Mutual TLS only, certificates of the cluster only (links and status).
    const http = createHttpsServer(
      {
        key: credentials.key,
        cert: credentials.cert,
        ca: credentials.ca,
        requestCert: true,
        rejectUnauthorized: true,
        minVersion: 'TLSv1.3',
      },
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
