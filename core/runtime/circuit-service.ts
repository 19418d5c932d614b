/**
 * Creating, rerouting and removing the circuits this controller owns. It decides and keeps the
 * table; the model (policy index, routers, terminators) and the route sender are given to it, so
 * it runs in unit tests and the benchmark with an in-memory sender and a real model.
 *
 * The circuit is recorded before its routes leave, so a router's route confirmation racing the
 * creation still finds it; a failed creation removes the routes it sent and the record.
 */
import { CircuitTable, type Circuit } from './circuit-table.js';
import { RuntimeError } from './errors.js';
import type { LinkTable } from './link-table.js';
import { buildGraph, pathTo, shortestPaths, type PathGraph } from './path.js';
import { routersLeft, routesForPath, type RouteEntry } from './forwarding.js';
import type { CircuitId, ControllerId, LinkId, Path, RouterId, RouterNode } from './types.js';

export interface ModelRouter {
  readonly id: RouterId;
  readonly name: string;
  readonly cost: number;
  readonly noTraversal: boolean;
  readonly disabled: boolean;
}

export interface ModelTerminator {
  readonly id: string;
  readonly routerId: RouterId;
  readonly address: string;
  readonly cost: number;
}

/** What the runtime reads of the replicated model (local, possibly slightly stale reads). */
export interface RuntimeModelView {
  router(idOrName: string): ModelRouter | undefined;
  routers(): ModelRouter[];
  identity(idOrName: string): { id: string; name: string } | undefined;
  service(idOrName: string): { id: string; name: string } | undefined;
  /** May the identity dial the service; `missing` says why not in an admin's words. */
  dialCheck(identityId: string, serviceId: string): { allowed: boolean; missing: readonly string[] };
  routersForIdentity(identityId: string): readonly RouterId[];
  routersForService(serviceId: string): readonly RouterId[];
  terminators(serviceId: string): ModelTerminator[];
}

/** Sends routes to routers; each promise settles when the router acknowledged (or failed). */
export interface RouteSender {
  connected(router: RouterId): boolean;
  route(router: RouterId, entry: RouteEntry): Promise<void>;
  unroute(router: RouterId, circuitId: CircuitId, reason: string): Promise<void>;
}

export type CircuitChange =
  | { readonly type: 'circuit.created'; readonly circuit: Circuit }
  | { readonly type: 'circuit.rerouted'; readonly circuit: Circuit; readonly reason: string }
  | { readonly type: 'circuit.deleted'; readonly circuit: Circuit; readonly reason: string };

export interface CircuitRequest {
  readonly identity: string;
  readonly service: string;
  readonly ingress: string;
}

/** A router's report that a circuit broke at it (the router channel's `fault`). */
export interface CircuitFault {
  readonly circuitId: CircuitId;
  /** The link beside the router that failed, when it knows. */
  readonly linkId?: LinkId;
  /** Why, for the circuit's event and the log. */
  readonly reason: string;
}

/** What came of a fault: acted on, about no circuit of ours, or from a router with no part in it. */
export type FaultOutcome = 'taken' | 'unknown' | 'off-path';

export interface CircuitServiceOptions {
  readonly self: ControllerId;
  readonly model: RuntimeModelView;
  readonly links: LinkTable;
  readonly sender: RouteSender;
  readonly newId: () => CircuitId;
  readonly onChange?: (change: CircuitChange) => void;
  readonly now?: () => Date;
}

export class CircuitService {
  readonly circuits = new CircuitTable();
  /** Circuits being rerouted now: a fault and a link-down for the same link start one reroute. */
  private readonly moving = new Set<CircuitId>();

  constructor(private readonly o: CircuitServiceOptions) {}

  async create(request: CircuitRequest): Promise<Circuit> {
    const { model } = this.o;
    const identity = model.identity(request.identity);
    if (!identity) throw new RuntimeError('UNKNOWN_IDENTITY', `no identity '${request.identity}'`);
    const service = model.service(request.service);
    if (!service) throw new RuntimeError('UNKNOWN_SERVICE', `no service '${request.service}'`);
    const ingress = model.router(request.ingress);
    if (!ingress || ingress.disabled)
      throw new RuntimeError('UNKNOWN_ROUTER', `no enabled router '${request.ingress}'`);
    const check = model.dialCheck(identity.id, service.id);
    if (!check.allowed) {
      throw new RuntimeError(
        'POLICY_DENIED',
        `${identity.name} may not dial ${service.name}: ${check.missing.join('; ') || 'no policy allows it'}`,
      );
    }
    const serviceRouters = new Set(model.routersForService(service.id));
    if (!model.routersForIdentity(identity.id).includes(ingress.id) || !serviceRouters.has(ingress.id)) {
      throw new RuntimeError(
        'ROUTER_NOT_ALLOWED',
        `no edge router policy lets ${identity.name} reach ${service.name} through ${ingress.name}`,
      );
    }
    if (!this.o.sender.connected(ingress.id)) {
      throw new RuntimeError(
        'ROUTER_NOT_CONNECTED',
        `router ${ingress.name} is not connected to this controller`,
      );
    }
    const graph = this.graph();
    const terminators = model
      .terminators(service.id)
      .filter((t) => serviceRouters.has(t.routerId) && graph.routers.has(t.routerId));
    if (terminators.length === 0) {
      throw new RuntimeError('NO_TERMINATOR', `${service.name} has no terminator on a connected router`);
    }
    const tree = shortestPaths(graph, ingress.id);
    let best: { terminator: ModelTerminator; path: Path; total: number } | undefined;
    for (const terminator of terminators) {
      const path = pathTo(tree, terminator.routerId);
      if (!path) continue;
      const total = path.cost + terminator.cost;
      if (!best || total < best.total || (total === best.total && terminator.id < best.terminator.id)) {
        best = { terminator, path, total };
      }
    }
    if (!best)
      throw new RuntimeError(
        'NO_PATH',
        `no live path from ${ingress.name} to a terminator of ${service.name}`,
      );
    const at = this.now();
    const circuit: Circuit = {
      id: this.o.newId(),
      owner: this.o.self,
      identityId: identity.id,
      serviceId: service.id,
      ingress: ingress.id,
      egress: best.terminator.routerId,
      terminatorId: best.terminator.id,
      path: best.path,
      createdAt: at,
      updatedAt: at,
      reroutes: 0,
    };
    this.circuits.put(circuit);
    try {
      await this.sendRoutes(circuit, best.terminator);
    } catch (err) {
      this.circuits.remove(circuit.id);
      await this.unrouteAll(circuit.path.routers, circuit.id, 'creation failed');
      throw new RuntimeError('ROUTE_FAILED', `routing circuit failed: ${(err as Error).message}`);
    }
    this.o.onChange?.({ type: 'circuit.created', circuit });
    return circuit;
  }

  /** Tears a circuit down: routes removed from every router on its path. */
  async remove(id: CircuitId, reason: string): Promise<Circuit> {
    const circuit = this.circuits.remove(id);
    if (!circuit) throw new RuntimeError('UNKNOWN_CIRCUIT', `no circuit ${id} owned by this controller`);
    await this.unrouteAll(circuit.path.routers, id, reason);
    this.o.onChange?.({ type: 'circuit.deleted', circuit, reason });
    return circuit;
  }

  /**
   * A link failed (the link table lost it, or a router sent a fault naming it): every circuit of
   * ours that crosses it moves to another path, or is torn down when none is left.
   */
  async linkFailed(link: LinkId, reason = `link ${link} failed`): Promise<void> {
    await Promise.all(this.circuits.usingLink(link).map((c) => this.reroute(c.id, link, reason)));
  }

  /**
   * A router reports that a circuit of ours broke at it. Only a router on the circuit's path may,
   * and only about a link beside it: anything else (a router elsewhere in the network tearing down
   * circuits it has no part in) changes nothing and answers `off-path`. A named link moves the
   * circuit off it; without one, the first link of the path that is gone does, else (the router
   * itself gave up: its terminator or its client went away) the circuit is torn down.
   */
  fault(router: RouterId, fault: CircuitFault): FaultOutcome {
    const circuit = this.circuits.get(fault.circuitId);
    if (!circuit) return 'unknown';
    const at = circuit.path.routers.indexOf(router);
    const beside = [circuit.path.links[at - 1], circuit.path.links[at]];
    if (at < 0 || (fault.linkId !== undefined && !beside.includes(fault.linkId))) return 'off-path';
    const link = fault.linkId ?? circuit.path.links.find((l) => !this.o.links.get(l));
    if (link) void this.reroute(circuit.id, link, fault.reason);
    else void this.remove(circuit.id, fault.reason).catch(() => undefined);
    return 'taken';
  }

  async reroute(id: CircuitId, failed: LinkId, reason: string): Promise<void> {
    if (this.moving.has(id)) return;
    const circuit = this.circuits.get(id);
    if (!circuit || !circuit.path.links.includes(failed)) return;
    this.moving.add(id);
    try {
      const terminator = this.o.model
        .terminators(circuit.serviceId)
        .find((t) => t.id === circuit.terminatorId);
      const path = terminator && pathTo(shortestPaths(this.graph(failed), circuit.ingress), circuit.egress);
      if (!terminator || !path) {
        await this.remove(id, `${reason}; no other path`);
        return;
      }
      const moved: Circuit = {
        ...circuit,
        path,
        updatedAt: this.now(),
        reroutes: circuit.reroutes + 1,
      };
      this.circuits.put(moved);
      try {
        await this.sendRoutes(moved, terminator);
      } catch (err) {
        await this.unrouteAll(routersLeft(path, circuit.path), id, 'rerouting failed');
        await this.remove(id, `${reason}; rerouting failed: ${(err as Error).message}`);
        return;
      }
      await this.unrouteAll(routersLeft(circuit.path, path), id, 'rerouted');
      this.o.onChange?.({ type: 'circuit.rerouted', circuit: moved, reason });
    } finally {
      this.moving.delete(id);
    }
  }

  /** Routers connected to us and enabled, joined by live links (less `without`). */
  graph(without?: LinkId): PathGraph {
    const nodes: RouterNode[] = [];
    for (const r of this.o.model.routers()) {
      if (!r.disabled && this.o.sender.connected(r.id))
        nodes.push({ id: r.id, cost: r.cost, transit: !r.noTraversal });
    }
    const links = [...this.o.links.reports()].filter((l) => l.id !== without);
    return buildGraph(nodes, links);
  }

  private async sendRoutes(circuit: Circuit, terminator: ModelTerminator): Promise<void> {
    const routes = routesForPath(circuit.id, circuit.owner, circuit.path, {
      id: terminator.id,
      address: terminator.address,
    });
    await Promise.all([...routes].map(([router, entry]) => this.o.sender.route(router, entry)));
  }

  private async unrouteAll(routers: readonly RouterId[], id: CircuitId, reason: string): Promise<void> {
    // Best effort: an unreachable router drops the route when its confirmation goes unanswered.
    await Promise.allSettled(routers.map((r) => this.o.sender.unroute(r, id, reason)));
  }

  private now(): string {
    return (this.o.now?.() ?? new Date()).toISOString();
  }
}
