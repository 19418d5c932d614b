/**
 * Path selection: the cheapest path over live links, where a path costs the sum of its routers'
 * costs plus the sum of its links' latencies. Dijkstra over an adjacency map with a binary heap.
 * No-traversal routers may start or end a path but are never passed through; routers missing from
 * the graph (disabled, or not connected to this controller) are not used at all.
 */
import { MinHeap } from './min-heap.js';
import type { LinkId, LinkReport, Path, RouterId, RouterNode } from './types.js';

interface Edge {
  readonly to: RouterId;
  readonly link: LinkId;
  readonly latencyMs: number;
}

export interface PathGraph {
  readonly routers: ReadonlyMap<RouterId, RouterNode>;
  readonly edges: ReadonlyMap<RouterId, readonly Edge[]>;
}

/** The graph of `routers` joined by those `links` whose both ends are among them. */
export function buildGraph(routers: Iterable<RouterNode>, links: Iterable<LinkReport>): PathGraph {
  const nodes = new Map<RouterId, RouterNode>();
  for (const r of routers) nodes.set(r.id, r);
  const edges = new Map<RouterId, Edge[]>();
  const add = (from: RouterId, edge: Edge): void => {
    const list = edges.get(from);
    if (list) list.push(edge);
    else edges.set(from, [edge]);
  };
  for (const l of links) {
    if (!nodes.has(l.dialer) || !nodes.has(l.acceptor)) continue;
    add(l.dialer, { to: l.acceptor, link: l.id, latencyMs: l.latencyMs });
    add(l.acceptor, { to: l.dialer, link: l.id, latencyMs: l.latencyMs });
  }
  return { routers: nodes, edges };
}

/** Cheapest costs and predecessors from one router to every router it reaches. */
export interface ShortestPaths {
  readonly from: RouterId;
  readonly cost: ReadonlyMap<RouterId, number>;
  readonly previous: ReadonlyMap<RouterId, { readonly router: RouterId; readonly link: LinkId }>;
}

export function shortestPaths(graph: PathGraph, from: RouterId): ShortestPaths {
  const cost = new Map<RouterId, number>();
  const previous = new Map<RouterId, { router: RouterId; link: LinkId }>();
  const start = graph.routers.get(from);
  if (!start) return { from, cost, previous };
  const done = new Set<RouterId>();
  const heap = new MinHeap<RouterId>();
  cost.set(from, start.cost);
  heap.push(start.cost, from);
  for (let top = heap.pop(); top; top = heap.pop()) {
    const { key, value: at } = top;
    if (done.has(at) || key > (cost.get(at) ?? Infinity)) continue;
    done.add(at);
    // A no-traversal router ends paths; only the start may be left through.
    if (at !== from && graph.routers.get(at)?.transit === false) continue;
    for (const edge of graph.edges.get(at) ?? []) {
      const next = graph.routers.get(edge.to);
      if (!next || done.has(edge.to)) continue;
      const candidate = key + edge.latencyMs + next.cost;
      if (candidate < (cost.get(edge.to) ?? Infinity)) {
        cost.set(edge.to, candidate);
        previous.set(edge.to, { router: at, link: edge.link });
        heap.push(candidate, edge.to);
      }
    }
  }
  return { from, cost, previous };
}

/** The path to `to` out of a shortest-path tree, or undefined when `to` is not reached. */
export function pathTo(tree: ShortestPaths, to: RouterId): Path | undefined {
  const cost = tree.cost.get(to);
  if (cost === undefined) return undefined;
  const routers: RouterId[] = [to];
  const links: LinkId[] = [];
  for (let at = to; at !== tree.from;) {
    const step = tree.previous.get(at);
    if (!step) return undefined;
    links.push(step.link);
    routers.push(step.router);
    at = step.router;
  }
  return { routers: routers.reverse(), links: links.reverse(), cost };
}

export function cheapestPath(graph: PathGraph, from: RouterId, to: RouterId): Path | undefined {
  return pathTo(shortestPaths(graph, from), to);
}
