/**
 * A cluster of real `meshdesk start` processes for the Jepsen runner, spawned through a NodeHost
 * (loopback or network namespaces) with the test-only fault hooks on: node 0 bootstraps, the
 * others join through it one at a time, as an admin would start them. The nemesis kills (-9),
 * restarts on the same data directory, pauses and resumes them; the data lives in a temp dir
 * that close() removes after SIGKILLing every process it started.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterCaFile } from '../../core/cluster/credentials.js';
import { isLoopback } from '../../core/hosts.js';
import type { NodeHost } from './host.js';
import { HttpNode, type HttpsTrust } from './http.js';
import { track, trackDir, untrackDir } from './processes.js';
import { poll } from './wait.js';

const BIN = new URL('../../bin/meshdesk.js', import.meta.url).pathname;
const READY = / node (\S+) \((\S+)\) of cluster (\S+) ready/;
const READY_MS = 60_000;

export interface ClusterConfig {
  readonly size: number;
  readonly host: NodeHost;
  readonly adminPassword: string;
  /** One line per process event (started, exited), for the run's log. */
  readonly log?: (line: string) => void;
  /**
   * Bind each cluster listener to 0.0.0.0 with no --advertise, as an admin who takes the
   * defaults does: each node finds the address its peers reach it at by itself.
   */
  readonly wildcardClusterBind?: boolean;
}

export interface NodeHealth {
  readonly nodeId: string;
  readonly role: string;
  readonly leaderId: string;
  readonly term: number;
  readonly commitIndex: number;
  readonly appliedIndex: number;
}

export type NodeState = 'up' | 'paused' | 'down';

export class ClusterNode {
  proc: ChildProcess | undefined;
  nodeId = '';
  state: NodeState = 'down';
  /** The end of its stderr (warnings and errors), for a failure's report. */
  stderr = '';
  exited: Promise<void> = Promise.resolve();

  constructor(
    readonly index: number,
    readonly name: string,
    readonly dataDir: string,
  ) {}
}

export class JepsenCluster {
  readonly nodes: ClusterNode[];
  private closing = false;
  /** One HttpNode per node for the runner's own calls (health, faults), apart from the clients'. */
  readonly http: HttpNode[];

  private constructor(
    readonly root: string,
    private readonly config: ClusterConfig,
  ) {
    this.nodes = Array.from(
      { length: config.size },
      (_, i) => new ClusterNode(i, `n${i}`, join(root, `n${i}`)),
    );
    this.http = this.nodes.map((_, i) => this.httpNode(i, 2_000));
  }

  /**
   * An HTTP client for node i's API: HTTPS verified against the cluster CA when the API is bound
   * beyond loopback (network namespaces), as the node then speaks nothing else.
   */
  httpNode(i: number, timeoutMs: number): HttpNode {
    const { host, port } = this.config.host.api(i);
    return new HttpNode(host, port, timeoutMs, isLoopback(host) ? undefined : this.trust);
  }

  /** The cluster root CA, from node 0's data directory (it exists once node 0 has bootstrapped). */
  private readonly trust: HttpsTrust = {
    ca: () => readFileSync(clusterCaFile(this.node(0).dataDir), 'utf8'),
  };

  get size(): number {
    return this.nodes.length;
  }

  static async start(config: ClusterConfig): Promise<JepsenCluster> {
    const root = await mkdtemp(join(tmpdir(), 'meshdesk-jepsen-'));
    trackDir(root);
    const cluster = new JepsenCluster(root, config);
    try {
      await cluster.spawn(0, ['--bootstrap']);
      // Each joins with its own one-time token from node 0, passed by environment (not argv).
      for (let i = 1; i < config.size; i++)
        await cluster.spawn(i, [], { MESHDESK_JOIN_TOKEN: await cluster.invite() });
    } catch (err) {
      await cluster.close();
      throw err;
    }
    return cluster;
  }

  node(i: number): ClusterNode {
    const node = this.nodes[i];
    if (!node) throw new Error(`no node ${i}`);
    return node;
  }

  /** kill -9, and wait until the process is gone. */
  async kill(i: number): Promise<void> {
    const node = this.node(i);
    node.proc?.kill('SIGKILL');
    await node.exited;
  }

  /** Starts a node that is down again on its own data directory; resolves once it serves. */
  async restart(i: number): Promise<void> {
    if (this.node(i).state !== 'down') throw new Error(`node ${i} is not down`);
    await this.spawn(i, []);
  }

  pause(i: number): void {
    const node = this.node(i);
    if (node.state !== 'up') throw new Error(`node ${i} is ${node.state}`);
    node.proc?.kill('SIGSTOP');
    node.state = 'paused';
  }

  resume(i: number): void {
    const node = this.node(i);
    if (node.state !== 'paused') return;
    node.proc?.kill('SIGCONT');
    node.state = 'up';
  }

  /** Waits (bounded) for a process to exit by itself, e.g. one that kills itself mid-snapshot. */
  async waitForExit(i: number, timeoutMs: number): Promise<boolean> {
    const node = this.node(i);
    if (node.state === 'down') return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    const exited = await Promise.race([node.exited.then(() => true as const), timeout]);
    clearTimeout(timer);
    return exited;
  }

  /** GET /health of node i; undefined when it does not answer. */
  async health(i: number, timeoutMs = 1_000): Promise<NodeHealth | undefined> {
    if (this.node(i).state !== 'up') return undefined;
    try {
      const answer = await this.http[i]?.request('GET', '/api/v1/health', { timeoutMs });
      return answer?.status === 200 ? (answer.json as NodeHealth) : undefined;
    } catch {
      return undefined;
    }
  }

  /** The index of the node that leads, as it and a majority of the cluster say; undefined on timeout. */
  async leader(timeoutMs = 10_000): Promise<number | undefined> {
    let leader: number | undefined;
    const found = await poll(timeoutMs, 50, async () => {
      const views = await Promise.all(this.nodes.map((_, i) => this.health(i)));
      const i = views.findIndex((v) => v?.role === 'leader');
      const id = views[i]?.nodeId;
      const agree = views.filter((v) => id !== undefined && v?.leaderId === id).length;
      if (i < 0 || agree <= this.size / 2) return false;
      leader = i;
      return true;
    });
    return found ? leader : undefined;
  }

  /**
   * Waits until every node is up, names the same leader, and has applied the same index (the
   * leader's commit): the quiet point the final reads start from.
   */
  async converge(timeoutMs: number): Promise<{ leader: number; appliedIndex: number }> {
    let last = 'no answer yet';
    let result: { leader: number; appliedIndex: number } | undefined;
    const ok = await poll(timeoutMs, 100, async () => {
      const views = await Promise.all(this.nodes.map((_, i) => this.health(i)));
      last = views
        .map((v, i) => (v ? `n${i} ${v.role} leader=${v.leaderId} applied=${v.appliedIndex}` : `n${i} -`))
        .join(', ');
      const [first] = views;
      if (!first || views.some((v) => !v || v.leaderId !== first.leaderId || v.leaderId === '')) return false;
      const leader = views.findIndex((v) => v?.role === 'leader' && v.nodeId === first.leaderId);
      const commit = views[leader]?.commitIndex;
      if (leader < 0 || views.some((v) => v?.appliedIndex !== commit)) return false;
      result = { leader, appliedIndex: commit ?? 0 };
      return true;
    });
    if (!ok || !result) throw new Error(`the cluster did not converge within ${timeoutMs} ms: ${last}`);
    return result;
  }

  /** SIGKILLs every process (held ones too), closes the host and removes the data. */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.nodes.map((n) => (n.state === 'down' ? undefined : this.kill(n.index))));
    for (const http of this.http) http.close();
    await this.config.host.close();
    await rm(this.root, { recursive: true, force: true });
    untrackDir(this.root);
  }

  /** A one-time join token from node 0, as `meshdesk cluster invite` mints it. */
  private async invite(): Promise<string> {
    const http = this.http[0] as HttpNode;
    const login = await http.request('POST', '/api/v1/auth/login', {
      body: { username: 'admin', password: this.config.adminPassword },
      timeoutMs: 10_000,
    });
    const { token } = login.json as { token: string };
    const invited = await http.request('POST', '/api/v1/cluster/invitations', {
      body: {},
      headers: { authorization: `Bearer ${token}` },
      timeoutMs: 10_000,
    });
    if (invited.status !== 201)
      throw new Error(`node 0 minted no join token (${invited.status}): ${invited.text}`);
    return (invited.json as { token: string }).token;
  }

  private async spawn(i: number, role: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<void> {
    const node = this.node(i);
    const host = this.config.host;
    const api = host.api(i);
    const listen = host.cluster(i);
    const args = [
      BIN,
      'start',
      '--data-dir',
      node.dataDir,
      '--name',
      node.name,
      '--api',
      `${api.host}:${api.port}`,
      ...(this.config.wildcardClusterBind
        ? ['--cluster', `0.0.0.0:${listen.port}`]
        : ['--cluster', `${listen.host}:${listen.port}`, '--advertise', `${listen.host}:${listen.port}`]),
      ...role,
    ];
    const proc = host.spawn(i, process.execPath, args, {
      env: {
        ...process.env,
        MESHDESK_FAULT_INJECTION: '1',
        MESHDESK_ADMIN_PASSWORD: this.config.adminPassword,
        MESHDESK_LOG_LEVEL: 'warn',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    track(proc);
    proc.on('error', (err) => this.config.log?.(`n${i}: ${String(err)}`));
    node.proc = proc;
    node.state = 'up';
    node.exited = new Promise((resolve) =>
      proc.once('exit', (code, signal) => {
        node.state = 'down';
        if (!this.closing) this.config.log?.(`n${i} exited (${signal ?? `code ${code}`})`);
        resolve();
      }),
    );
    proc.stderr?.on(
      'data',
      (chunk: Buffer) => (node.stderr = (node.stderr + chunk.toString()).slice(-8_000)),
    );
    const started = performance.now();
    const line = await readyLine(proc, node, READY_MS);
    node.nodeId = line[2] ?? '';
    this.config.log?.(`n${i} ready in ${Math.round(performance.now() - started)} ms`);
  }
}

/** The node's "ready — UI at" line, or an error if it exits or takes too long. */
function readyLine(proc: ChildProcess, node: ClusterNode, timeoutMs: number): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(
      () => done(new Error(`${node.name} not ready within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onData = (chunk: Buffer): void => {
      out += chunk.toString();
      const match = READY.exec(out);
      if (match) done(undefined, match);
    };
    const onExit = (): void =>
      done(new Error(`${node.name} exited before it was ready: ${exitReason(node.stderr)}`));
    const done = (err: Error | undefined, match?: RegExpExecArray): void => {
      clearTimeout(timer);
      proc.stdout?.off('data', onData);
      proc.off('exit', onExit);
      // Keep draining stdout so the node never blocks on a full pipe.
      proc.stdout?.resume();
      if (match) resolve(match);
      else reject(err ?? new Error('not ready'));
    };
    proc.stdout?.on('data', onData);
    proc.once('exit', onExit);
  });
}

/** What a node said as it died: its error line (Node's trailer "Node.js v20…" says nothing). */
function exitReason(stderr: string): string {
  const lines = stderr.trim().split('\n');
  const error = [...lines]
    .reverse()
    .find((l) => /error|refus|cannot|EADDR/i.test(l) && !l.startsWith('    at '));
  return (error ?? lines.at(-1) ?? '').trim().slice(0, 500);
}
