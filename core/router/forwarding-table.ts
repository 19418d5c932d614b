/**
 * The router's route (forwarding) table: per circuit, the links on either side and the owning
 * controller, so that a fault reaches the owner and a confirmation goes to the right controller.
 */
import type { WireRoute } from '../runtime/protocol.js';

export class ForwardingTable {
  private readonly routes = new Map<string, WireRoute>();

  get size(): number {
    return this.routes.size;
  }

  get(circuitId: string): WireRoute | undefined {
    return this.routes.get(circuitId);
  }

  /** Adds or replaces (a reroute replaces the entry). */
  put(route: WireRoute): void {
    this.routes.set(route.circuitId, route);
  }

  remove(circuitId: string): boolean {
    return this.routes.delete(circuitId);
  }

  list(): WireRoute[] {
    return [...this.routes.values()];
  }

  usingLink(linkId: string): WireRoute[] {
    return this.list().filter((r) => r.previousLink === linkId || r.nextLink === linkId);
  }

  ownedBy(controller: string): string[] {
    return this.list()
      .filter((r) => r.owner === controller)
      .map((r) => r.circuitId);
  }
}
