/**
 * `npm run bench -- api`: the REST API of 3 `meshdesk start` processes on 127.0.0.1, and in the
 * same runs (when Debian's etcd-server is installed) a 3-member etcd through its JSON gateway, with
 * the same clients: closed-loop writes of 200-byte entities at 1, 16 and 64 clients spread over
 * the three nodes (writes/s, p50, p99), local reads at 16 clients (serializable ranges for etcd),
 * and failover: kill -9 the leader under a 16-client write load, time until the next write started
 * after the kill is acknowledged (median of 10), with each system's default timing.
 */
import { Buffer } from 'node:buffer';
import { Agent, request } from 'node:http';
import { ControllerCluster } from '../support/controller-processes.js';
import { EtcdCluster, etcdInstalled } from './etcd-cluster.js';
import { figure, ratios, repeat, type BenchOptions, type Figure } from './stats.js';

/** One system under load: where its clients send writes and reads. */
interface Target {
  readonly name: 'meshdesk' | 'etcd';
  /** Node indexes clients may use now (the dead leader is left out during failover). */
  live: number[];
  write(node: number, key: string): Promise<boolean>;
  read(node: number, key: string): Promise<boolean>;
}

interface LoadResult {
  readonly ops: number;
  readonly elapsedMs: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
}

const CLIENTS = [1, 16, 64];

/**
 * One HTTP request on a keep-alive connection. node:http rather than fetch: undici added about
 * 3 ms to every POST here, which would hide most of what the two servers do.
 */
const agent = new Agent({ keepAlive: true, maxSockets: 256 });
function call(
  url: string,
  method: string,
  body?: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const sized =
      body === undefined
        ? {}
        : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) };
    const req = request(url, { method, agent, headers: { ...headers, ...sized } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
const PAD = 'x'.repeat(150); // with the name and JSON around it: about 200 bytes per entity

export async function runApi(options: BenchOptions): Promise<Figure[]> {
  const loadMs = options.quick ? 300 : 2_000;
  const failovers = options.quick ? 1 : 10;
  const ours = await ControllerCluster.start(3);
  const etcd = etcdInstalled() ? await EtcdCluster.start(3) : undefined;
  try {
    const targets = [await meshdeskTarget(ours), ...(etcd ? [etcdTarget(etcd)] : [])];
    const figures: Figure[] = [];
    let run = 0;
    for (const clients of CLIENTS) {
      const results = await repeat(async () => {
        run++;
        const byTarget = new Map<string, LoadResult>();
        for (const t of targets)
          byTarget.set(t.name, await load(t, clients, loadMs, (c, i) => `w${run}-${c}-${i}`, 'write'));
        return byTarget;
      }, options);
      figures.push(...loadFigures('writes', results, { clients, entityBytes: 200 }));
    }
    await prefill(targets, 200);
    const reads = await repeat(async () => {
      const byTarget = new Map<string, LoadResult>();
      for (const t of targets)
        byTarget.set(t.name, await load(t, 16, loadMs, (c, i) => `r-${(c * 31 + i) % 200}`, 'read'));
      return byTarget;
    }, options);
    figures.push(...loadFigures('local_reads', reads, { clients: 16, entityBytes: 200 }));
    figures.push(...(await failoverFigures(ours, etcd, targets, failovers)));
    return figures;
  } finally {
    await ours.close();
    await etcd?.stop();
  }
}

async function meshdeskTarget(cluster: ControllerCluster): Promise<Target> {
  const headers = { authorization: `Bearer ${await cluster.login()}` };
  const ids = new Map<string, string>();
  return {
    name: 'meshdesk',
    live: [0, 1, 2],
    async write(node, key) {
      const url = `${cluster.node(node).url}/api/v1/identities`;
      const res = await call(url, 'POST', JSON.stringify({ name: key, tags: { pad: PAD } }), headers);
      if (res.status !== 201) return false;
      ids.set(key, (JSON.parse(res.body) as { id: string }).id);
      return true;
    },
    async read(node, key) {
      const url = `${cluster.node(node).url}/api/v1/identities/${ids.get(key) ?? 'none'}`;
      return (await call(url, 'GET', undefined, headers)).status === 200;
    },
  };
}

function etcdTarget(cluster: EtcdCluster): Target {
  const b64 = (s: string): string => Buffer.from(s).toString('base64');
  const value = b64(`{"name":"x","tags":{"pad":"${PAD}"}}`);
  return {
    name: 'etcd',
    live: [0, 1, 2],
    async write(node, key) {
      const res = await call(
        `${cluster.urls[node]}/v3/kv/put`,
        'POST',
        JSON.stringify({ key: b64(key), value }),
      );
      return res.status === 200 && (JSON.parse(res.body) as { header?: unknown }).header !== undefined;
    },
    async read(node, key) {
      const body = JSON.stringify({ key: b64(key), serializable: true });
      const res = await call(`${cluster.urls[node]}/v3/kv/range`, 'POST', body);
      return res.status === 200 && ((JSON.parse(res.body) as { kvs?: unknown[] }).kvs?.length ?? 0) === 1;
    },
  };
}

/** `clients` closed loops for `ms`, client c on node c mod live; latency of successful operations. */
async function load(
  target: Target,
  clients: number,
  ms: number,
  key: (client: number, i: number) => string,
  kind: 'write' | 'read',
): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  const started = performance.now();
  const deadline = started + ms;
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      for (let i = 0; performance.now() < deadline; i++) {
        const node = target.live[c % target.live.length] as number;
        const t0 = performance.now();
        const ok = await target[kind](node, key(c, i)).catch(() => false);
        if (ok) latencies.push(performance.now() - t0);
        else errors++;
      }
    }),
  );
  const elapsedMs = performance.now() - started;
  latencies.sort((a, b) => a - b);
  const at = (q: number): number =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return { ops: latencies.length, elapsedMs, p50Ms: at(0.5), p99Ms: at(0.99), errors };
}

async function prefill(targets: readonly Target[], keys: number): Promise<void> {
  for (const t of targets) {
    for (let k = 0; k < keys; k++)
      if (!(await t.write(k % 3, `r-${k}`))) throw new Error(`${t.name}: prefill write failed`);
  }
}

function loadFigures(
  what: 'writes' | 'local_reads',
  runs: readonly Map<string, LoadResult>[],
  context: Record<string, number>,
): Figure[] {
  const series = (name: string, pick: (r: LoadResult) => number): number[] =>
    runs.map((r) => pick(r.get(name) as LoadResult));
  const rate = (r: LoadResult): number => (r.ops * 1000) / r.elapsedMs;
  const figures: Figure[] = [];
  for (const name of runs[0]?.keys() ?? []) {
    const ctx = { ...context, system: name };
    figures.push(
      figure('api', what, 'ops/s', series(name, rate), ctx),
      figure(
        'api',
        `${what}_p50`,
        'ms',
        series(name, (r) => r.p50Ms),
        ctx,
      ),
      figure(
        'api',
        `${what}_p99`,
        'ms',
        series(name, (r) => r.p99Ms),
        ctx,
      ),
    );
  }
  if (runs[0]?.has('etcd')) {
    figures.push(
      figure(
        'api',
        `${what}_vs_etcd`,
        'ratio',
        ratios(series('meshdesk', rate), series('etcd', rate)),
        context,
      ),
      figure(
        'api',
        `${what}_p99_vs_etcd`,
        'ratio',
        ratios(
          series('meshdesk', (r) => r.p99Ms),
          series('etcd', (r) => r.p99Ms),
        ),
        context,
      ),
    );
  }
  return figures;
}

async function failoverFigures(
  ours: ControllerCluster,
  etcd: EtcdCluster | undefined,
  targets: readonly Target[],
  runs: number,
): Promise<Figure[]> {
  const samples = new Map<string, number[]>();
  for (let run = 0; run < runs; run++) {
    for (const target of targets) {
      const ms =
        target.name === 'meshdesk'
          ? await failover(
              target,
              run,
              () => ours.leaderIndex(),
              (i) => ours.node(i).kill(),
              (i) => ours.node(i).start(),
            )
          : await failover(
              target,
              run,
              async () => (await (etcd as EtcdCluster).leaderIndex()) ?? -1,
              (i) => (etcd as EtcdCluster).kill(i),
              async (i) => {
                await (etcd as EtcdCluster).restart(i);
                await (etcd as EtcdCluster).waitHealthy();
              },
            );
      samples.set(target.name, [...(samples.get(target.name) ?? []), ms]);
    }
    await ours.leaderIndex();
  }
  const figures = [...samples].map(([system, ms]) =>
    figure('api', 'failover_to_next_write', 'ms', ms, { clients: 16, system }),
  );
  const theirs = samples.get('etcd');
  if (theirs) {
    figures.push(
      figure('api', 'failover_vs_etcd', 'ratio', ratios(samples.get('meshdesk') as number[], theirs), {
        clients: 16,
      }),
    );
  }
  return figures;
}

/**
 * Kills the leader under a 16-client write load and returns the milliseconds from the kill to the
 * first acknowledged write that was sent after it; then brings the node back.
 */
async function failover(
  target: Target,
  run: number,
  leaderOf: () => Promise<number>,
  kill: (i: number) => Promise<void>,
  restart: (i: number) => Promise<void>,
): Promise<number> {
  const leader = await leaderOf();
  let killedAt = Number.POSITIVE_INFINITY;
  let firstAck = Number.POSITIVE_INFINITY;
  let stop = false;
  const clients = Array.from({ length: 16 }, async (_, c) => {
    for (let i = 0; !stop; i++) {
      const node = target.live[c % target.live.length] as number;
      const sent = performance.now();
      const ok = await target.write(node, `f${run}-${c}-${i}`).catch(() => false);
      if (ok && sent > killedAt) {
        firstAck = Math.min(firstAck, performance.now());
        stop = true;
      }
      if (!ok) await new Promise((resolve) => setTimeout(resolve, 5)); // a dead node refuses at once
    }
  });
  await new Promise((resolve) => setTimeout(resolve, 300)); // let the load settle
  killedAt = performance.now();
  target.live = [0, 1, 2].filter((i) => i !== leader);
  await kill(leader);
  const guard = setTimeout(() => (stop = true), 30_000);
  await Promise.all(clients);
  clearTimeout(guard);
  target.live = [0, 1, 2];
  await restart(leader);
  if (!Number.isFinite(firstAck))
    throw new Error(`${target.name}: no write acknowledged within 30 s of the kill`);
  return firstAck - killedAt;
}
