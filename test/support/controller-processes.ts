/**
 * Real `meshdesk start` processes on 127.0.0.1 for the contract tests: node 0 bootstraps, the
 * others join with a join token that node 0 mints, exactly as an admin would start them. Ports are chosen free at
 * run time; a test talks to the nodes over HTTP only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isLoopback } from '../../core/hosts.js';
import { freePort } from './kv-cluster.js';
import { waitFor } from './wait.js';

const BIN = new URL('../../bin/meshdesk.js', import.meta.url).pathname;
export const ADMIN_PASSWORD = 'contract-test-password';

export interface HttpAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- JSON of any route
}

export class ControllerProcess {
  proc: ChildProcess | undefined;
  stdout = '';
  stderr = '';
  /** Keep all of stderr (the log), not only its last 20 000 characters. */
  keepLog = false;

  constructor(
    readonly name: string,
    readonly dataDir: string,
    readonly apiPort: number,
    readonly clusterPort: number,
    /** The API's bind host: beyond loopback it serves HTTPS, reached here through 127.0.0.1. */
    readonly apiHost = '127.0.0.1',
  ) {}

  get url(): string {
    return `${isLoopback(this.apiHost) ? 'http' : 'https'}://127.0.0.1:${this.apiPort}`;
  }

  /** Starts the process (with `role` flags the first time) and waits for its ready line. */
  async start(role: readonly string[] = [], env: NodeJS.ProcessEnv = {}): Promise<void> {
    await this.startWith(['start', ...role], env);
  }

  /** Runs `meshdesk <command…>` with this node's directory and ports, until its ready line. */
  async startWith(command: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<void> {
    await this.launch(command, env);
  }

  /**
   * Spawns `meshdesk <command…>` now and returns a promise of its ready line, so that a test can
   * talk to the node while it is still starting.
   */
  launch(command: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<void> {
    this.stdout = '';
    this.stderr = '';
    const [verb, ...flags] = command;
    const args = [
      BIN,
      verb ?? 'start',
      '--data-dir',
      this.dataDir,
      '--name',
      this.name,
      '--api',
      `${this.apiHost}:${this.apiPort}`,
      '--cluster',
      `127.0.0.1:${this.clusterPort}`,
      ...flags,
    ];
    const proc = spawn(process.execPath, args, {
      env: {
        ...process.env,
        MESHDESK_ADMIN_PASSWORD: ADMIN_PASSWORD,
        MESHDESK_LOG_LEVEL: 'warn',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.proc = proc;
    proc.stdout.on('data', (chunk: Buffer) => (this.stdout += chunk.toString()));
    proc.stderr.on(
      'data',
      (chunk: Buffer) => (this.stderr = (this.stderr + chunk.toString()).slice(this.keepLog ? 0 : -20_000)),
    );
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => fail(new Error(`${this.name} not ready within 60 s: ${this.stderr}`)),
        60_000,
      );
      const onData = (): void => {
        if (this.stdout.includes('ready — UI at')) done();
      };
      const onExit = (): void =>
        fail(new Error(`${this.name} exited: ${this.stderr.trim().split('\n').at(-1)}`));
      const cleanup = (): void => {
        clearTimeout(timer);
        proc.stdout.off('data', onData);
        proc.off('exit', onExit);
      };
      const done = (): void => {
        cleanup();
        resolve();
      };
      const fail = (err: Error): void => {
        cleanup();
        reject(err);
      };
      proc.stdout.on('data', onData);
      proc.once('exit', onExit);
    });
  }

  /** SIGKILL: the process dies at once, mid-whatever. */
  async kill(): Promise<void> {
    await this.signal('SIGKILL');
  }

  /** SIGTERM: a clean stop. */
  async stop(): Promise<void> {
    await this.signal('SIGTERM');
  }

  private async signal(signal: NodeJS.Signals): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill(signal);
    await exited;
  }
}

export class ControllerCluster {
  private token: string | undefined;

  private constructor(
    readonly root: string,
    readonly nodes: ControllerProcess[],
  ) {}

  /**
   * `size` nodes: node 0 bootstraps, the others join one at a time through node 0. `flags` go to
   * every node's `meshdesk start` (e.g. `--ui DIR`), `env` to its environment (e.g. fault injection).
   */
  static async start(
    size: number,
    flags: readonly string[] = [],
    env: NodeJS.ProcessEnv = {},
  ): Promise<ControllerCluster> {
    const root = await mkdtemp(join(tmpdir(), 'meshdesk-cluster-'));
    const nodes: ControllerProcess[] = [];
    for (let i = 0; i < size; i++) {
      nodes.push(
        new ControllerProcess(`node-${i}`, join(root, `node-${i}`), await freePort(), await freePort()),
      );
    }
    const cluster = new ControllerCluster(root, nodes);
    try {
      await nodes[0]?.start(['--bootstrap', ...flags], env);
      // The token goes by environment, as a careful admin's would: argv is visible to every local user.
      for (const node of nodes.slice(1))
        await node.start(flags, { ...env, MESHDESK_JOIN_TOKEN: await cluster.invite() });
    } catch (err) {
      await cluster.close();
      throw err;
    }
    return cluster;
  }

  /** A new node that joins with `token` (given by environment, as a careful admin would). */
  async join(token: string, flags: readonly string[] = []): Promise<ControllerProcess> {
    const i = this.nodes.length;
    const node = new ControllerProcess(
      `node-${i}`,
      join(this.root, `node-${i}`),
      await freePort(),
      await freePort(),
    );
    this.nodes.push(node);
    await node.start(flags, { MESHDESK_JOIN_TOKEN: token });
    return node;
  }

  node(i: number): ControllerProcess {
    const node = this.nodes[i];
    if (!node) throw new Error(`no node ${i}`);
    return node;
  }

  /** An admin token (valid on every node: node 0 published its public key when signing it). */
  async login(): Promise<string> {
    if (this.token) return this.token;
    const answer = await this.call(
      0,
      'POST',
      '/auth/login',
      { username: 'admin', password: ADMIN_PASSWORD },
      {},
      false,
    );
    if (answer.status !== 200)
      throw new Error(`login failed: ${answer.status} ${JSON.stringify(answer.body)}`);
    this.token = answer.body.token as string;
    return this.token;
  }

  /** A one-time join token, minted by node `i`. */
  async invite(i = 0): Promise<string> {
    const answer = await this.call(i, 'POST', '/cluster/invitations', {});
    if (answer.status !== 201)
      throw new Error(`invite failed: ${answer.status} ${JSON.stringify(answer.body)}`);
    return answer.body.token as string;
  }

  /** One HTTP call to node `i`'s API, authenticated unless `auth` is false. */
  async call(
    i: number,
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
    auth = true,
  ): Promise<HttpAnswer> {
    const token = auth ? await this.login() : undefined;
    const response = await fetch(`${this.node(i).url}/api/v1${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON (metrics): keep the text
    }
    return { status: response.status, headers: response.headers, body: parsed };
  }

  /** The index of the node that leads now, as every live node agrees. */
  async leaderIndex(live: readonly number[] = this.nodes.map((_, i) => i)): Promise<number> {
    let leader = -1;
    await waitFor(
      async () => {
        const views = await Promise.all(
          live.map((i) => this.call(i, 'GET', '/health', undefined, {}, false)),
        );
        const ids = new Set(views.map((v) => v.body?.leaderId as string));
        const [id] = [...ids];
        if (ids.size !== 1 || !id) return false;
        leader = views.findIndex((v) => v.body.nodeId === id);
        if (leader >= 0) leader = live[leader] ?? -1;
        return leader >= 0;
      },
      'one leader that every live node knows',
      30_000,
      50,
    );
    return leader;
  }

  async close(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop()));
    await rm(this.root, { recursive: true, force: true });
  }
}
