/**
 * Benchmark `runtime`: the controller's runtime data in-process.
 * - circuit creation with 50 routers in a full mesh (1225 links, latencies 1–20 ms, `wiki`
 *   terminating on 5 of them): the real model and policy index, path selection, the circuit table
 *   and route messages to an in-memory route sender that acknowledges at once — so the figure is
 *   the controller's own cost, not the router channel's round trips;
 * - path computation (Dijkstra from one router to another) at 200 routers in a full mesh;
 * - heap memory per 10,000 circuits held in the circuit table (3-router paths).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { CircuitService } from '../../core/runtime/circuit-service.js';
import { CircuitTable } from '../../core/runtime/circuit-table.js';
import { LinkTable } from '../../core/runtime/link-table.js';
import { modelView } from '../../core/runtime/model-view.js';
import { buildGraph, pathTo, shortestPaths } from '../../core/runtime/path.js';
import type { LinkReport } from '../../core/runtime/types.js';
import { routerName, runtimeFixture } from '../unit/runtime/model-fixture.js';
import { figure, repeat, type BenchOptions, type Figure } from './stats.js';

const BENCH = 'runtime';
const MESH_ROUTERS = 50;
const PATH_ROUTERS = 200;
const CIRCUITS_FOR_MEMORY = 10_000;
const BUDGET_MS = 2_000;

function lcg(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

function mesh(n: number, random: () => number): LinkReport[] {
  const links: LinkReport[] = [];
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      links.push({
        id: `l${i}-${j}`,
        dialer: routerName(i),
        acceptor: routerName(j),
        latencyMs: 1 + Math.floor(random() * 20),
      });
    }
  }
  return links;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
}

async function circuitCreation(quick: boolean, seed: number) {
  const sm = await runtimeFixture({ routers: MESH_ROUTERS, terminatorsOn: [5, 15, 25, 35, 45] });
  const links = new LinkTable();
  const random = lcg(seed);
  for (const l of mesh(MESH_ROUTERS, random)) links.up(l.dialer, l);
  let n = 0;
  const service = new CircuitService({
    self: 'bench',
    model: modelView(() => sm.model),
    links,
    newId: () => `c${++n}`,
    sender: { connected: () => true, route: async () => undefined, unroute: async () => undefined },
  });
  const max = quick ? 200 : 50_000;
  const latencies: number[] = [];
  const start = performance.now();
  while (latencies.length < max && performance.now() - start < BUDGET_MS) {
    const ingress = routerName(Math.floor(random() * MESH_ROUTERS));
    const t0 = performance.now();
    await service.create({ identity: 'alice', service: 'wiki', ingress });
    latencies.push(performance.now() - t0);
  }
  const seconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    perSecond: latencies.length / seconds,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
  };
}

function pathComputation(quick: boolean, seed: number): number {
  const random = lcg(seed);
  const nodes = Array.from({ length: PATH_ROUTERS }, (_, i) => ({
    id: routerName(i),
    cost: Math.floor(random() * 10),
    transit: true,
  }));
  const graph = buildGraph(nodes, mesh(PATH_ROUTERS, random));
  const rounds = quick ? 20 : 500;
  const t0 = performance.now();
  for (let i = 0; i < rounds; i++) {
    const from = routerName(Math.floor(random() * PATH_ROUTERS));
    const to = routerName(Math.floor(random() * PATH_ROUTERS));
    if (!pathTo(shortestPaths(graph, from), to)) throw new Error('no path in a full mesh');
  }
  return (performance.now() - t0) / rounds;
}

function collectGarbage(): (() => void) | undefined {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as (() => void) | undefined;
  return typeof gc === 'function' ? gc : undefined;
}

function circuitMemory(quick: boolean): number {
  const gc = collectGarbage();
  const count = quick ? 1_000 : CIRCUITS_FOR_MEMORY;
  gc?.();
  const before = process.memoryUsage().heapUsed;
  const table = new CircuitTable();
  const at = new Date().toISOString();
  for (let i = 0; i < count; i++) {
    const routers = [routerName(i % 50), routerName((i + 7) % 50), routerName((i + 13) % 50)];
    table.put({
      id: crypto.randomUUID(),
      owner: 'node-id-0123456789',
      identityId: crypto.randomUUID(),
      serviceId: crypto.randomUUID(),
      ingress: routers[0] as string,
      egress: routers[2] as string,
      terminatorId: crypto.randomUUID(),
      path: {
        routers,
        links: [`${routers[0]}~${routers[1]}~abcd1234`, `${routers[1]}~${routers[2]}~abcd1234`],
        cost: 12,
      },
      createdAt: at,
      updatedAt: at,
      reroutes: 0,
    });
  }
  gc?.();
  const bytes = process.memoryUsage().heapUsed - before;
  if (table.size !== count) throw new Error('table lost circuits');
  return (bytes / 1e6) * (CIRCUITS_FOR_MEMORY / count);
}

export async function runRuntime(options: BenchOptions): Promise<Figure[]> {
  let seed = 1;
  const creation = await repeat(() => circuitCreation(options.quick, seed++), options);
  const paths = await repeat(() => pathComputation(options.quick, seed++), options);
  const memory = await repeat(() => circuitMemory(options.quick), options);
  const mesh50 = {
    routers: MESH_ROUTERS,
    links: (MESH_ROUTERS * (MESH_ROUTERS - 1)) / 2,
    sender: 'in-memory',
  };
  return [
    figure(
      BENCH,
      'circuit creations',
      'per second',
      creation.map((r) => r.perSecond),
      mesh50,
    ),
    figure(
      BENCH,
      'circuit creation p50',
      'ms',
      creation.map((r) => r.p50),
      mesh50,
    ),
    figure(
      BENCH,
      'circuit creation p99',
      'ms',
      creation.map((r) => r.p99),
      mesh50,
    ),
    figure(BENCH, 'path computation', 'ms', paths, {
      routers: PATH_ROUTERS,
      links: (PATH_ROUTERS * (PATH_ROUTERS - 1)) / 2,
    }),
    figure(BENCH, 'memory per 10k circuits', 'MB', memory, { circuits: CIRCUITS_FOR_MEMORY, pathRouters: 3 }),
  ];
}
