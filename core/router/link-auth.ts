/**
 * Router-to-router link hello. A link is mutual TLS between two routers' certificates: the hello
 * names the link and both ends, and the dialer's certificate must name the router it says it is
 * (the dialer checks the acceptor's the same way, core/router/router-links.ts).
 */
import { z } from 'zod';

export const LINK_NAMESPACE = '/links';

const linkHelloSchema = z.object({
  v: z.literal(1),
  id: z.string().min(1).max(128),
  from: z.string().min(1).max(256),
  to: z.string().min(1).max(256),
});
export type LinkHello = z.output<typeof linkHelloSchema>;

export function makeLinkHello(id: string, from: string, to: string): LinkHello {
  return { v: 1, id, from, to };
}

/** The hello of a dialer whose verified certificate names router `certified` (undefined: none). */
export function checkLinkHello(
  self: string,
  auth: unknown,
  certified: string | undefined,
): LinkHello | string {
  const parsed = linkHelloSchema.safeParse(auth);
  if (!parsed.success) return 'malformed hello';
  const hello = parsed.data;
  if (!certified) return 'the certificate does not name a router of this cluster';
  if (hello.from !== certified) return `router ${certified} claims to be ${hello.from}`;
  if (hello.to !== self) return `addressed to ${hello.to}`;
  if (hello.from === self) return 'a link to ourselves';
  return hello;
}
