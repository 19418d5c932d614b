/**
 * Forwarding routes (not HTTP routes): what each router on a circuit's path must know to forward
 * it. Every entry names the owning controller, so a router sends faults for the circuit to its
 * owner.
 */
import type { CircuitId, ControllerId, LinkId, Path, RouterId } from './types.js';

export interface RouteEntry {
  readonly circuitId: CircuitId;
  readonly owner: ControllerId;
  /** The link towards the ingress (absent on the ingress router). */
  readonly previousLink?: LinkId;
  /** The link towards the egress (absent on the egress router). */
  readonly nextLink?: LinkId;
  /** On the egress router: where the service is reached. */
  readonly terminator?: { readonly id: string; readonly address: string };
}

export function routesForPath(
  circuitId: CircuitId,
  owner: ControllerId,
  path: Path,
  terminator: { id: string; address: string },
): Map<RouterId, RouteEntry> {
  const routes = new Map<RouterId, RouteEntry>();
  path.routers.forEach((router, i) => {
    const previousLink = i > 0 ? path.links[i - 1] : undefined;
    const nextLink = path.links[i];
    const last = i === path.routers.length - 1;
    routes.set(router, {
      circuitId,
      owner,
      ...(previousLink ? { previousLink } : {}),
      ...(nextLink ? { nextLink } : {}),
      ...(last ? { terminator } : {}),
    });
  });
  return routes;
}

/** Routers on the old path that the new one leaves out: their routes must be removed. */
export function routersLeft(oldPath: Path, newPath: Path): RouterId[] {
  const kept = new Set(newPath.routers);
  return oldPath.routers.filter((r) => !kept.has(r));
}
