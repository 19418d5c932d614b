/**
 * Router-to-router link hello. Between routers with certificates the link is mutual TLS: the
 * hello names the link and both ends, and the dialer's certificate must name the router it says
 * it is (the dialer checks the acceptor's the same way, core/router/router-links.ts). Between
 * routers of the shared secret, the dialer proves the secret with an HMAC over both names, the
 * link id and its clock, accepted within a minute (as node-signed API requests are). A replay
 * inside that minute would need the same link id, which the acceptor refuses while it has it.
 */
import { z } from 'zod';
import { fieldsMac, sameMac } from '../transport/mac.js';

const DOMAIN = 'meshdesk/link-proof/v1';
export const LINK_NAMESPACE = '/links';
const WINDOW_MS = 60_000;

export const linkHelloSchema = z.object({
  v: z.literal(1),
  id: z.string().min(1).max(128),
  from: z.string().min(1).max(256),
  to: z.string().min(1).max(256),
  at: z.number().int(),
  proof: z.instanceof(Uint8Array),
});
export type LinkHello = z.output<typeof certifiedHelloSchema>;
const certifiedHelloSchema = linkHelloSchema.pick({ v: true, id: true, from: true, to: true });

function mac(secret: string, id: string, from: string, to: string, at: number): Buffer {
  return fieldsMac(secret, [DOMAIN, id, from, to, String(at)]);
}

export function makeLinkHello(
  secret: string,
  id: string,
  from: string,
  to: string,
  at = Date.now(),
): Record<string, unknown> {
  return { v: 1, id, from, to, at, proof: mac(secret, id, from, to, at) };
}

export function checkLinkHello(
  secret: string,
  self: string,
  auth: unknown,
  now = Date.now(),
): LinkHello | string {
  const parsed = linkHelloSchema.safeParse(auth);
  if (!parsed.success) return 'malformed hello';
  const hello = parsed.data;
  if (hello.to !== self) return `addressed to ${hello.to}`;
  if (hello.from === self) return 'a link to ourselves';
  if (Math.abs(now - hello.at) > WINDOW_MS) return 'hello outside the time window';
  const expected = mac(secret, hello.id, hello.from, hello.to, hello.at);
  if (!sameMac(hello.proof, expected)) return 'bad proof';
  return hello;
}

export function makeCertifiedLinkHello(id: string, from: string, to: string): Record<string, unknown> {
  return { v: 1, id, from, to };
}

/** The hello of a dialer whose verified certificate names router `certified` (undefined: none). */
export function checkCertifiedLinkHello(
  self: string,
  auth: unknown,
  certified: string | undefined,
): LinkHello | string {
  const parsed = certifiedHelloSchema.safeParse(auth);
  if (!parsed.success) return 'malformed hello';
  const hello = parsed.data;
  if (!certified) return 'the certificate does not name a router of this cluster';
  if (hello.from !== certified) return `router ${certified} claims to be ${hello.from}`;
  if (hello.to !== self) return `addressed to ${hello.to}`;
  if (hello.from === self) return 'a link to ourselves';
  return hello;
}
