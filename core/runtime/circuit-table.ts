/**
 * The circuits this controller owns (it created them). In memory only: when the controller dies,
 * the routes on the routers outlive it, and a periodic confirmation from the routers lets the
 * controllers that still run say which routes they do not own.
 */
import type { CircuitId, ControllerId, LinkId, Path, RouterId } from './types.js';

export interface Circuit {
  readonly id: CircuitId;
  readonly owner: ControllerId;
  readonly identityId: string;
  readonly serviceId: string;
  readonly ingress: RouterId;
  readonly egress: RouterId;
  readonly terminatorId: string;
  readonly path: Path;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** How many times a link failure moved it to another path. */
  readonly reroutes: number;
}

export class CircuitTable {
  private readonly circuits = new Map<CircuitId, Circuit>();
  private readonly byLink = new Map<LinkId, Set<CircuitId>>();

  get size(): number {
    return this.circuits.size;
  }

  get(id: CircuitId): Circuit | undefined {
    return this.circuits.get(id);
  }

  has(id: CircuitId): boolean {
    return this.circuits.has(id);
  }

  list(): Circuit[] {
    return [...this.circuits.values()];
  }

  /** Circuits whose path crosses the link. */
  usingLink(link: LinkId): Circuit[] {
    return [...(this.byLink.get(link) ?? [])].flatMap((id) => this.circuits.get(id) ?? []);
  }

  /** Adds or replaces (a reroute replaces the path). */
  put(circuit: Circuit): void {
    const old = this.circuits.get(circuit.id);
    if (old) this.unindex(old);
    this.circuits.set(circuit.id, circuit);
    for (const link of circuit.path.links) {
      let set = this.byLink.get(link);
      if (!set) this.byLink.set(link, (set = new Set()));
      set.add(circuit.id);
    }
  }

  remove(id: CircuitId): Circuit | undefined {
    const circuit = this.circuits.get(id);
    if (!circuit) return undefined;
    this.circuits.delete(id);
    this.unindex(circuit);
    return circuit;
  }

  private unindex(circuit: Circuit): void {
    for (const link of circuit.path.links) {
      const set = this.byLink.get(link);
      set?.delete(circuit.id);
      if (set?.size === 0) this.byLink.delete(link);
    }
  }
}
