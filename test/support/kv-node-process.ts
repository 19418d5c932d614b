/**
 * A controller node process with the key-value state machine (or the model, with
 * `stateMachine: 'model'`) and a tiny HTTP front, for the integration tests and the node benchmark. Configured by one JSON argument; prints one line
 * `{"ready":true,...}` on stdout once it serves.
 *
 *   PUT  /kv/:key           body = value       → {index, result}        (any node; followers forward)
 *   GET  /kv/:key?consistency=local|linearizable → {value, index}
 *   GET  /kv                                    → {applied, data: {key: value}}
 *   GET  /status                                → the replica's status
 *   POST /model             body = a ModelCommand  → {index, result}     (model nodes)
 *   GET  /model/tables                         → {applied, tables: {name: rows}}
 *   POST /load?proposers=N&ms=T                 → closed-loop write load run inside this node
 *                                                  (the node benchmark: no HTTP per write)
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import pino from 'pino';
import { loadCredentials } from '../../core/cluster/credentials.js';
import { createNode, type InitialMember } from '../../core/node.js';
import { ReplicaError } from '../../core/replication/errors.js';
import type { Consistency, Replica } from '../../core/replication/replica.js';
import { encodeCommand, type ModelCommand } from '../../core/model/commands.js';
import { ModelStateMachine } from '../../core/model/state-machine.js';
import { encodeKv, KvStateMachine } from './kv-state-machine.js';
import { modelContents } from './model-tables.js';

export interface KvNodeConfig {
  dataDir: string;
  nodeId: string;
  clusterPort: number;
  httpPort: number;
  clusterId: string;
  members: InitialMember[];
  snapshotEvery?: number;
  trailingEntries?: number;
  segmentBytes?: number;
  logLevel?: string;
  stateMachine?: 'kv' | 'model';
  /** Benchmarks only: the transport without TLS, to measure what TLS costs. */
  plaintext?: boolean;
}

const STATUS_OF: Record<string, number> = {
  NO_LEADER: 503,
  QUEUE_FULL: 429,
  TIMEOUT: 504,
  OUTCOME_UNKNOWN: 504,
};

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '{}') as KvNodeConfig;
  const sm = new KvStateMachine();
  const model = config.stateMachine === 'model' ? await ModelStateMachine.create() : undefined;
  const logger = pino({ level: config.logLevel ?? 'warn' }, pino.destination(2));
  const node = await createNode({
    dataDir: config.dataDir,
    nodeId: config.nodeId,
    cluster: { host: '127.0.0.1', port: config.clusterPort },
    // The harness put this node's credentials in its data directory (core/cluster/credentials.ts).
    credentials: async () => {
      const tls = await loadCredentials(config.dataDir);
      if (!tls) throw new Error(`no credentials in ${config.dataDir}`);
      return () => tls;
    },
    bootstrap: { clusterId: config.clusterId, members: config.members },
    ...(config.plaintext ? { benchmarkPlaintext: true as const } : {}),
    stateMachine: model ?? sm,
    logger,
    ...(config.segmentBytes ? { storage: { segmentBytes: config.segmentBytes } } : {}),
    replica: {
      ...(config.snapshotEvery ? { snapshotEvery: config.snapshotEvery } : {}),
      ...(config.trailingEntries !== undefined ? { trailingEntries: config.trailingEntries } : {}),
    },
  });
  node.replica.on('fatal', (err) => {
    process.stderr.write(`fatal: ${err.message}\n`);
    process.exit(70);
  });

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => reply(res, 500, { error: String(err) }));
  });
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const key = url.pathname.startsWith('/kv/') ? decodeURIComponent(url.pathname.slice(4)) : undefined;
    try {
      if (req.method === 'PUT' && key !== undefined) {
        const value = await body(req);
        const { index, result } = await node.replica.propose(encodeKv({ op: 'put', key, value }));
        return reply(res, 200, { index, result });
      }
      if (req.method === 'GET' && key !== undefined) {
        const consistency = (url.searchParams.get('consistency') ?? 'local') as Consistency;
        const { index } = await node.replica.read(consistency);
        return reply(res, 200, { value: sm.get(key) ?? null, index });
      }
      if (req.method === 'GET' && url.pathname === '/kv') {
        return reply(res, 200, {
          applied: node.replica.appliedIndex(),
          data: Object.fromEntries([...sm.data].map(([k, v]) => [k, v.value])),
        });
      }
      if (model && req.method === 'POST' && url.pathname === '/model') {
        const command = JSON.parse(await body(req)) as ModelCommand;
        return reply(res, 200, await node.replica.propose(encodeCommand(command)));
      }
      if (model && req.method === 'GET' && url.pathname === '/model/tables') {
        const tables = modelContents(model.model);
        return reply(res, 200, { applied: node.replica.appliedIndex(), tables });
      }
      if (req.method === 'POST' && url.pathname === '/load') {
        const proposers = Number(url.searchParams.get('proposers') ?? '1');
        const ms = Number(url.searchParams.get('ms') ?? '1000');
        return reply(res, 200, await runLoad(node.replica, proposers, ms));
      }
      if (req.method === 'GET' && url.pathname === '/status') {
        return reply(res, 200, { ...node.replica.status(), transport: node.transport.stats() });
      }
      reply(res, 404, { error: 'not found' });
    } catch (err) {
      if (err instanceof ReplicaError)
        return reply(res, STATUS_OF[err.code] ?? 500, {
          code: err.code,
          outcome: err.outcome,
          error: err.message,
        });
      throw err;
    }
  }
  await new Promise<void>((resolve) => server.listen(config.httpPort, '127.0.0.1', resolve));
  process.stdout.write(
    `${JSON.stringify({ ready: true, nodeId: node.id, clusterPort: node.clusterPort, httpPort: config.httpPort })}\n`,
  );

  const shutdown = (): void => {
    server.close();
    void node.stop().then(() => process.exit(0));
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

/** `proposers` writers, each proposing its next write as soon as the previous one is acknowledged. */
async function runLoad(
  replica: Replica,
  proposers: number,
  ms: number,
): Promise<{ count: number; elapsedMs: number; p50Ms: number; p99Ms: number; fsyncs: number }> {
  const value = 'x'.repeat(150);
  const latencies: number[] = [];
  const fsyncsBefore = replica.status().fsyncs;
  const start = performance.now();
  const deadline = start + ms;
  await Promise.all(
    Array.from({ length: proposers }, async (_, w) => {
      for (let i = 0; performance.now() < deadline; i++) {
        const t = performance.now();
        await replica.propose(encodeKv({ op: 'put', key: `load-${w}-${i}`, value }));
        latencies.push(performance.now() - t);
      }
    }),
  );
  const elapsedMs = performance.now() - start;
  latencies.sort((a, b) => a - b);
  const at = (q: number): number =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return {
    count: latencies.length,
    elapsedMs,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    fsyncs: replica.status().fsyncs - fsyncsBefore,
  };
}

function body(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function reply(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
