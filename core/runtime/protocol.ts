/**
 * The router channel's wire protocol (socket.io namespace `/routers` on the cluster listener,
 * msgpack frames, over mutual TLS). Routers name routers by id, the one each router's certificate
 * names; the controller maps ids to names for people. Every message is checked against these
 * schemas on arrival, on both sides; what fails is dropped and counted.
 */
import { z } from 'zod';

export const ROUTER_NAMESPACE = '/routers';
/** 2: routers prove themselves by certificate only (1 had the routers' shared secret). */
export const PROTOCOL_VERSION = 2;

/** Router → controller. */
export const EVENTS = {
  /** Controller → router: TLS proved it, here is who the controller is. */
  accepted: 'auth:accepted',
  /** Controller → router: the routers whose certificates are good now. */
  peers: 'peers',
  heartbeat: 'heartbeat',
  links: 'links',
  link: 'link',
  fault: 'fault',
  createCircuit: 'circuit.create',
  confirmRoutes: 'routes.confirm',
  /** A new certificate for the router, on a CSR of a new key (its session's certificate vouches). */
  renew: 'certificate.renew',
  /** Controller → router. */
  dialLink: 'link.dial',
  route: 'route',
  unroute: 'unroute',
  dialCircuit: 'circuit.dial',
} as const;

const name = z.string().min(1).max(256);
const id = z.string().min(1).max(128);
const latency = z.number().finite().min(0).max(600_000);
const address = z.string().min(3).max(300);

export const helloSchema = z.object({
  v: z.literal(PROTOCOL_VERSION),
  /** Its id: the one its certificate names. */
  router: id,
  /** host:port the router accepts links on. */
  listen: address.optional(),
});
/**
 * Whom a router may trust, as of the sender's applied index (a router keeps the list of the
 * highest index it heard): each enabled router's enrolled certificate (the routers it may link
 * with), the controllers removed from the cluster (none of their certificates is good), which
 * intermediate CA signs certificates now and which ones are still trusted.
 */
export const peersSchema = z.object({
  index: z.number().int().min(0),
  routers: z.array(z.object({ id, serial: z.string().regex(/^[0-9A-Fa-f]{2,64}$/) })).max(100_000),
  revokedControllers: z.array(id).max(10_000),
  /** The SHA-256 fingerprint of the intermediate CA that signs now: a router of another renews. */
  issuer: z.string().max(200).optional(),
  /**
   * Every intermediate whose certificates are good: the one that signs now and those of a
   * rotation not yet finished. A controller certificate of another is refused.
   */
  issuers: z.array(z.string().max(200)).max(1_000).optional(),
  /** The cluster's root CA (PEM): a router trusts it, and only it, once it differs from its own. */
  root: z.string().max(16_384).optional(),
});
export type Peers = z.output<typeof peersSchema>;
export const acceptedSchema = z.object({
  v: z.literal(PROTOCOL_VERSION),
  controller: id,
  controllerName: name,
});

export const linkSchema = z.object({ id, dialer: id, acceptor: id, latencyMs: latency });
export type WireLink = z.output<typeof linkSchema>;
export const linksSchema = z.object({ links: z.array(linkSchema).max(10_000) });
export const linkEventSchema = z.discriminatedUnion('op', [
  z.object({ op: z.literal('up'), link: linkSchema }),
  z.object({ op: z.literal('down'), id, reason: z.string().max(500).default('closed') }),
  z.object({ op: z.literal('latency'), id, latencyMs: latency }),
]);
export type LinkEvent = z.output<typeof linkEventSchema>;

export const faultSchema = z.object({
  circuitId: id,
  linkId: id.optional(),
  reason: z.string().max(500),
});
export type Fault = z.output<typeof faultSchema>;

export const circuitAskSchema = z.object({ identity: name, service: name });
export const confirmSchema = z.object({ circuitIds: z.array(id).max(100_000) });
const pemText = z.string().min(1).max(32_768);
export const renewSchema = z.object({ csr: pemText });
export const renewedSchema = z.object({ certificate: pemText, ca: pemText });
export type Renewed = z.output<typeof renewedSchema>;
export const confirmAnswerSchema = z.object({ unknown: z.array(id) });

export const dialLinkSchema = z.object({ peer: id, address });
export const dialLinkAnswerSchema = z.object({ link: linkSchema, existing: z.boolean() });

export const routeSchema = z.object({
  circuitId: id,
  owner: id,
  previousLink: id.optional(),
  nextLink: id.optional(),
  terminator: z.object({ id, address: z.string().max(1000) }).optional(),
});
export type WireRoute = z.output<typeof routeSchema>;
export const unrouteSchema = z.object({ circuitId: id, reason: z.string().max(500) });

/** A circuit as the channel carries it (routers by id). */
export const wireCircuitSchema = z.object({
  id,
  owner: id,
  ownerName: name,
  identity: name,
  service: name,
  routers: z.array(id),
  links: z.array(id),
  cost: z.number(),
});
export type WireCircuit = z.output<typeof wireCircuitSchema>;

/** Every answer: ok with a value, or a refusal with a stable code. */
export type Answer<T> = { ok: true; value: T } | { ok: false; code: string; message: string };

export function answerSchema<T extends z.ZodType>(value: T) {
  return z.discriminatedUnion('ok', [
    z.object({ ok: z.literal(true), value }),
    z.object({ ok: z.literal(false), code: z.string().max(64), message: z.string().max(2000) }),
  ]);
}
