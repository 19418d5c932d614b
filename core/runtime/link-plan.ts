/**
 * Which links should exist: one between every two enabled routers that listen for links. The
 * dialer of a pair is fixed (the router whose id sorts first), so every controller asks the
 * same router for the same link and the router can answer a repeated request with the link it has.
 */
import type { LinkReport, RouterId } from './types.js';

export interface LinkCandidate {
  readonly id: RouterId;
  /** For log lines. */
  readonly name: string;
  /** host:port the router accepts links on; routers without one only dial. */
  readonly listen?: string;
}

export interface LinkRequest {
  readonly dialer: LinkCandidate;
  readonly acceptor: LinkCandidate & { readonly listen: string };
}

export function dialerOf<T extends { id: RouterId }>(a: T, b: T): [dialer: T, acceptor: T] {
  return a.id < b.id ? [a, b] : [b, a];
}

/** The links missing between `routers`, each as the request to send to its dialer. */
export function missingLinks(routers: readonly LinkCandidate[], links: Iterable<LinkReport>): LinkRequest[] {
  const joined = new Set<string>();
  for (const l of links) joined.add(pairKey(l.dialer, l.acceptor));
  const missing: LinkRequest[] = [];
  for (let i = 0; i < routers.length; i++) {
    for (let j = i + 1; j < routers.length; j++) {
      const [dialer, acceptor] = dialerOf(routers[i] as LinkCandidate, routers[j] as LinkCandidate);
      if (!acceptor.listen || joined.has(pairKey(dialer.id, acceptor.id))) continue;
      missing.push({ dialer, acceptor: { ...acceptor, listen: acceptor.listen } });
    }
  }
  return missing;
}

export function pairKey(a: RouterId, b: RouterId): string {
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}
