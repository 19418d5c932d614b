/**
 * The router's HTTP endpoint on its listen address (tests, the lab, curious admins): status,
 * probes, circuits by hand and (only where fault injection is on) the link fault hooks. Who may
 * ask: it is served over mutual TLS and answers a client certificate of the router's own or of a
 * controller of its cluster that was not removed from it, from an intermediate CA still trusted
 * (trust-list.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Answer, WireCircuit } from '../runtime/protocol.js';
import type { ProbeResult } from './router-links.js';
import {
  controllerIdOf,
  issuerFingerprint,
  routerIdOf,
  verifiedCertificate,
} from '../transport/cert-auth.js';
import type { RouterCredentials } from './credentials.js';
import type { TrustList } from './trust-list.js';

/** What the endpoint may ask of the router. */
export interface RouterControls {
  status(): unknown;
  blocked(): string[];
  block(peer: string): void;
  unblock(peer: string): void;
  probe(circuitId: string): Promise<ProbeResult>;
  createCircuit(identity: string, service: string): Promise<Answer<WireCircuit>>;
}

/** Who the endpoint answers. */
export function statusAuthorization(
  credentials: RouterCredentials,
  trust: TrustList,
): (req: IncomingMessage) => boolean {
  return (req) => {
    const cert = verifiedCertificate(req.socket);
    if (!cert) return false;
    if (routerIdOf(cert, credentials.clusterId) === credentials.routerId) return true;
    const controller = controllerIdOf(cert, credentials.clusterId);
    return (
      controller !== undefined &&
      !trust.controllerRevoked(controller) &&
      trust.issuerTrusted(issuerFingerprint(cert))
    );
  };
}

export function statusEndpoint(
  authorized: (req: IncomingMessage) => boolean,
  router: RouterControls,
  options: { readonly faults: boolean },
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (req, res) => {
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (!authorized(req)) return send(401, { error: 'unauthorized' });
    const url = new URL(req.url ?? '/', 'http://router');
    const peer = url.searchParams.get('peer') ?? '';
    if (req.method === 'GET' && url.pathname === '/status') return send(200, router.status());
    if (url.pathname.startsWith('/faults/') && !options.faults) return send(404, { error: 'not found' });
    if (req.method === 'POST' && url.pathname === '/faults/block' && peer) {
      router.block(peer);
      return send(200, { blocked: router.blocked() });
    }
    if (req.method === 'POST' && url.pathname === '/faults/unblock' && peer) {
      router.unblock(peer);
      return send(200, { blocked: router.blocked() });
    }
    if (req.method === 'POST' && url.pathname === '/probe') {
      return send(200, await router.probe(url.searchParams.get('circuit') ?? ''));
    }
    if (req.method === 'POST' && url.pathname === '/circuits') {
      const identity = url.searchParams.get('identity') ?? '';
      const service = url.searchParams.get('service') ?? '';
      return send(200, await router.createCircuit(identity, service));
    }
    send(404, { error: 'not found' });
  };
}
