/**
 * Real node processes on 127.0.0.1 for the integration tests and the node benchmark: each runs
 * test/support/kv-node-process.ts with ports chosen free at run time. Each cluster has its own CA
 * (so two clusters do not trust each other); a node's credentials are written to its data
 * directory before it first starts, as a controller keeps them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { loadCredentials, saveCredentials } from '../../core/cluster/credentials.js';
import { createClusterCa, type ClusterCa } from '../../core/pki/ca.js';
import type { KvNodeConfig } from './kv-node-process.js';
import { testTls } from './test-pki.js';

const SCRIPT = new URL('./kv-node-process.ts', import.meta.url).pathname;

export interface KvClusterOptions {
  readonly nodes: number;
  readonly snapshotEvery?: number;
  readonly trailingEntries?: number;
  readonly segmentBytes?: number;
  readonly stateMachine?: 'kv' | 'model';
  /** Benchmarks only: the transport without TLS (the node benchmark's baseline). */
  readonly plaintext?: boolean;
}

export interface KvProcess {
  readonly config: KvNodeConfig;
  proc: ChildProcess | undefined;
  stderr: string;
  exitCode: number | null | undefined;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** Whether `port` can be bound on 127.0.0.1 now. */
function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * A first port P such that P..P+span-1 are all free, below the kernel's ephemeral range (32768 and
 * up on Linux): a tool that derives ports from P (the lab: P+i, P+100+i, P+201…) must not meet the
 * client sockets other tests open meanwhile, which take ephemeral ports.
 */
export async function freePortBlock(span: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * (12_000 - span));
    let free = true;
    for (let port = base; free && port < base + span; port++) free = await bindable(port);
    if (free) return base;
  }
  throw new Error(`no ${span} free ports in a row below 32768`);
}

export class KvCluster {
  readonly nodes: KvProcess[] = [];

  private constructor(
    readonly dir: string,
    private readonly ca: ClusterCa,
  ) {}

  static async start(options: KvClusterOptions): Promise<KvCluster> {
    const dir = await mkdtemp(join(tmpdir(), 'meshdesk-it-'));
    const cluster = new KvCluster(dir, await createClusterCa('it-cluster'));
    const ports = await Promise.all(Array.from({ length: options.nodes * 2 }, () => freePort()));
    const members = Array.from({ length: options.nodes }, (_, i) => ({
      id: `node${i}`,
      address: `127.0.0.1:${ports[2 * i] as number}`,
    }));
    for (let i = 0; i < options.nodes; i++) {
      cluster.nodes.push({
        config: {
          dataDir: join(dir, `node${i}`),
          nodeId: `node${i}`,
          clusterPort: ports[2 * i] as number,
          httpPort: ports[2 * i + 1] as number,
          clusterId: 'it-cluster',
          members,
          ...(options.snapshotEvery ? { snapshotEvery: options.snapshotEvery } : {}),
          ...(options.trailingEntries !== undefined ? { trailingEntries: options.trailingEntries } : {}),
          ...(options.segmentBytes ? { segmentBytes: options.segmentBytes } : {}),
          ...(options.stateMachine ? { stateMachine: options.stateMachine } : {}),
          ...(options.plaintext ? { plaintext: true } : {}),
        },
        proc: undefined,
        stderr: '',
        exitCode: undefined,
      });
    }
    await Promise.all(cluster.nodes.map((_, i) => cluster.startNode(i)));
    return cluster;
  }

  /** Starts node `i` (again) and resolves once it serves HTTP; rejects if it exits first. */
  async startNode(i: number, override: Partial<KvNodeConfig> = {}): Promise<void> {
    const node = this.nodes[i] as KvProcess;
    const config = { ...node.config, ...override };
    if (!(await loadCredentials(config.dataDir))) {
      await saveCredentials(config.dataDir, await testTls(config.clusterId, config.nodeId, { ca: this.ca }));
    }
    // KV_NODE_ARGS passes extra node flags to every node, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
    const extra = process.env.KV_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
    const proc = spawn(process.execPath, [...extra, '--import', 'tsx', SCRIPT, JSON.stringify(config)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    node.proc = proc;
    node.stderr = '';
    node.exitCode = undefined;
    proc.stderr?.on('data', (chunk: Buffer) => (node.stderr += chunk.toString()));
    return new Promise((resolve, reject) => {
      const lines = createInterface({ input: proc.stdout as NodeJS.ReadableStream });
      lines.on('line', (line) => {
        if (line.includes('"ready":true')) resolve();
      });
      proc.on('exit', (code) => {
        node.exitCode = code;
        if (node.proc === proc) node.proc = undefined;
        reject(new Error(`node${i} exited with ${code}: ${node.stderr.trim()}`));
      });
    });
  }

  /** kill -9: the process gets no chance to flush or close anything. */
  async kill(i: number): Promise<void> {
    const proc = this.nodes[i]?.proc;
    if (!proc) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill('SIGKILL');
    await exited;
  }

  url(i: number): string {
    return `http://127.0.0.1:${(this.nodes[i] as KvProcess).config.httpPort}`;
  }

  async put(
    i: number,
    key: string,
    value: string,
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(`${this.url(i)}/kv/${encodeURIComponent(key)}`, { method: 'PUT', body: value });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  async get(i: number, key: string, consistency = 'local'): Promise<{ value: string | null; index: number }> {
    const res = await fetch(`${this.url(i)}/kv/${encodeURIComponent(key)}?consistency=${consistency}`);
    return (await res.json()) as { value: string | null; index: number };
  }

  async data(i: number): Promise<{ applied: number; data: Record<string, string> }> {
    return (await (await fetch(`${this.url(i)}/kv`)).json()) as {
      applied: number;
      data: Record<string, string>;
    };
  }

  async status(i: number): Promise<
    Record<string, unknown> & {
      role: string;
      leader: string;
      term: number;
      commit: number;
      applied: number;
      snapshotIndex: number;
    }
  > {
    return (await (await fetch(`${this.url(i)}/status`)).json()) as never;
  }

  async command(i: number, command: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(`${this.url(i)}/model`, { method: 'POST', body: JSON.stringify(command) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  async tables(i: number): Promise<{ applied: number; tables: Record<string, unknown[]> }> {
    return (await (await fetch(`${this.url(i)}/model/tables`)).json()) as {
      applied: number;
      tables: Record<string, unknown[]>;
    };
  }

  running(): number[] {
    return this.nodes.flatMap((n, i) => (n.proc ? [i] : []));
  }

  /** The index of the node that leads, as seen by a running node; undefined when none does. */
  async leader(): Promise<number | undefined> {
    for (const i of this.running()) {
      try {
        const s = await this.status(i);
        if (s.role === 'leader') return i;
      } catch {
        // not serving yet
      }
    }
    return undefined;
  }

  async stop(): Promise<void> {
    await Promise.all(this.running().map((i) => this.kill(i)));
    await rm(this.dir, { recursive: true, force: true });
  }
}
