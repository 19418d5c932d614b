import { describe, expect, it } from 'vitest';
import { MinHeap } from '../../../core/runtime/min-heap.js';
import { buildGraph, cheapestPath } from '../../../core/runtime/path.js';
import type { RouterNode } from '../../../core/runtime/types.js';

const node = (id: string, cost = 0, transit = true): RouterNode => ({ id, cost, transit });
const link = (id: string, dialer: string, acceptor: string, latencyMs: number) => ({
  id,
  dialer,
  acceptor,
  latencyMs,
});

describe('cheapest path (router cost + link latency)', () => {
  it('counts router costs as well as latencies', () => {
    // a-b-d is faster on the wire but b is expensive; a-c-d wins.
    const graph = buildGraph(
      [node('a'), node('b', 100), node('c', 5), node('d')],
      [link('ab', 'a', 'b', 1), link('bd', 'b', 'd', 1), link('ac', 'a', 'c', 10), link('cd', 'c', 'd', 10)],
    );
    expect(cheapestPath(graph, 'a', 'd')).toEqual({
      routers: ['a', 'c', 'd'],
      links: ['ac', 'cd'],
      cost: 25,
    });
  });

  it('uses links in both directions and takes a direct link when it is cheapest', () => {
    const graph = buildGraph(
      [node('a'), node('b'), node('c')],
      [link('ba', 'b', 'a', 2), link('cb', 'c', 'b', 2), link('ca', 'c', 'a', 3)],
    );
    expect(cheapestPath(graph, 'a', 'c')?.links).toEqual(['ca']);
    expect(cheapestPath(graph, 'a', 'a')).toEqual({ routers: ['a'], links: [], cost: 0 });
  });

  it('never passes through a no-traversal router, but may end at one', () => {
    const graph = buildGraph(
      [node('a'), node('b', 0, false), node('c'), node('d')],
      [link('ab', 'a', 'b', 1), link('bd', 'b', 'd', 1), link('ac', 'a', 'c', 50), link('cd', 'c', 'd', 50)],
    );
    expect(cheapestPath(graph, 'a', 'd')?.routers).toEqual(['a', 'c', 'd']);
    expect(cheapestPath(graph, 'a', 'b')?.routers).toEqual(['a', 'b']);
  });

  it('ignores links to routers outside the graph and says when nothing is reachable', () => {
    const graph = buildGraph([node('a'), node('b')], [link('ax', 'a', 'x', 1), link('xb', 'x', 'b', 1)]);
    expect(cheapestPath(graph, 'a', 'b')).toBeUndefined();
    expect(cheapestPath(graph, 'nowhere', 'b')).toBeUndefined();
  });

  it('agrees with exhaustive search on random meshes', () => {
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let round = 0; round < 30; round++) {
      const n = 7;
      const nodes = Array.from({ length: n }, (_, i) => node(`n${i}`, Math.floor(random() * 5)));
      const links = [];
      for (let i = 0; i < n; i++)
        for (let j = i + 1; j < n; j++)
          if (random() < 0.5) links.push(link(`l${i}-${j}`, `n${i}`, `n${j}`, 1 + Math.floor(random() * 20)));
      const graph = buildGraph(nodes, links);
      const found = cheapestPath(graph, 'n0', `n${n - 1}`);
      expect(found?.cost).toBe(bruteForce(nodes, links, 'n0', `n${n - 1}`));
    }
  });

  it('orders a heap', () => {
    const heap = new MinHeap<number>();
    for (const k of [5, 3, 9, 1, 1, 7]) heap.push(k, k);
    const out: number[] = [];
    for (let top = heap.pop(); top; top = heap.pop()) out.push(top.key);
    expect(out).toEqual([1, 1, 3, 5, 7, 9]);
  });
});

function bruteForce(
  nodes: RouterNode[],
  links: { dialer: string; acceptor: string; latencyMs: number }[],
  from: string,
  to: string,
): number | undefined {
  const cost = new Map(nodes.map((n) => [n.id, n.cost]));
  let best: number | undefined;
  const walk = (at: string, seen: Set<string>, total: number): void => {
    if (at === to) {
      best = best === undefined ? total : Math.min(best, total);
      return;
    }
    for (const l of links) {
      const next = l.dialer === at ? l.acceptor : l.acceptor === at ? l.dialer : undefined;
      if (!next || seen.has(next)) continue;
      walk(next, new Set([...seen, next]), total + l.latencyMs + (cost.get(next) ?? 0));
    }
  };
  walk(from, new Set([from]), cost.get(from) ?? 0);
  return best;
}
