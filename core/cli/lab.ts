/**
 * `meshdesk lab`: a demo cluster of N controller processes on 127.0.0.1, seeded with a sample
 * model. Node 0 bootstraps, the others join it one at a time with a join token each that node 0
 * mints (membership changes are one at a time); Ctrl-C or SIGTERM stops them all. With an existing --data-dir the lab restarts the nodes
 * it finds there, with their data.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomSecret } from '../files.js';
import { credentialsDir } from '../cluster/credentials.js';
import { CliClient } from './api-client.js';
import { integer, parse, text } from './args.js';
import { LAB_TERMINATED_SERVICES, SAMPLE_MODEL, labRouterNames } from './lab-model.js';

export const LAB_USAGE = `usage: meshdesk lab [options]

Runs a local demo cluster on 127.0.0.1 with a sample model, until Ctrl-C.
Node i serves the API and UI on port P+i and the cluster on P+100+i.

options:
  --controllers N   controller processes (default 3, at most 7)
  --routers M       router agents router-1..M (default 0); router j accepts links on P+200+j
  --data-dir D      keep the nodes' data here, to run the same lab again later
                    (default: a temporary directory, removed when the lab stops)
  --base-port P     first API port (default 8440)

The admin password comes from MESHDESK_ADMIN_PASSWORD, or is generated and printed.
A lab runs with its fault hooks on (PUT /api/v1/runtime/faults, /api/v1/debug/*, the routers'
/faults/*): never use one as a real site.`;

const OPTIONS = {
  controllers: { type: 'string' },
  routers: { type: 'string' },
  'data-dir': { type: 'string' },
  'base-port': { type: 'string' },
} as const;

const BIN = fileURLToPath(new URL('../../bin/meshdesk.js', import.meta.url));
const READY = /ready — UI at (\S+)/;
/** What makes a process a lab's: the fault hooks production nodes and routers do not have. */
const LAB_MODE = { MESHDESK_FAULT_INJECTION: '1' } as const;

interface LabNode {
  readonly index: number;
  readonly process: ChildProcess;
  readonly url: string;
}

export async function lab(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  out: (line: string) => void,
): Promise<number> {
  const { values, help } = parse(argv, OPTIONS);
  if (help) {
    out(LAB_USAGE);
    return 0;
  }
  const controllers = integer('controllers', text(values, 'controllers') ?? '3', 1, 7);
  const routers = integer('routers', text(values, 'routers') ?? '0', 0, 64);
  const basePort = integer('base-port', text(values, 'base-port') ?? '8440', 1, 65535 - 200 - routers);
  const given = text(values, 'data-dir');
  const dataDir = given ?? (await mkdtemp(join(tmpdir(), 'meshdesk-lab-')));
  const fresh = !existsSync(join(credentialsDir(join(dataDir, 'node-0')), 'node.pem'));
  const password = env.MESHDESK_ADMIN_PASSWORD ?? randomSecret(12);
  const nodes: LabNode[] = [];
  const children: ChildProcess[] = [];
  const agents: ChildProcess[] = [];
  // Listening from the start: a signal while nodes are still starting stops those already up.
  let onSignal: () => void = () => undefined;
  const signalled = new Promise<number>((resolve) => (onSignal = () => resolve(0)));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    for (let i = 0; i < controllers; i++) {
      const dir = join(dataDir, `node-${i}`);
      await mkdir(dir, { recursive: true });
      const role = fresh && i === 0 ? ['--bootstrap'] : [];
      // A token by environment, not argv (which every local user can read).
      const joining =
        fresh && i > 0 ? { MESHDESK_JOIN_TOKEN: await invite(nodes[0] as LabNode, password) } : {};
      const args = [
        'start',
        '--data-dir',
        dir,
        '--name',
        `node-${i}`,
        '--api',
        `127.0.0.1:${basePort + i}`,
        '--cluster',
        `127.0.0.1:${basePort + 100 + i}`,
        ...role,
      ];
      // Lab mode: the fault hooks (slow a router channel, cut a link) are there to teach with.
      const childEnv = { ...env, ...LAB_MODE, MESHDESK_ADMIN_PASSWORD: password, ...joining };
      const starting = startNode(i, args, childEnv);
      children.push(starting.child);
      const started = await Promise.race([starting.ready, signalled.then(() => undefined)]);
      if (!started) return 0;
      nodes.push(started);
    }
    const first = nodes[0] as LabNode;
    const client = new CliClient(first.url, { username: 'admin', password });
    if (fresh) await client.request('POST', '/batch', { operations: SAMPLE_MODEL });
    if (routers > 0) {
      await ensureLabRouters(client, labRouterNames(routers));
      const { secret } = (await client.request<{ secret: string }>('GET', '/cluster/router-secret')).data;
      const clusterUrls = nodes.map((n) => `https://127.0.0.1:${basePort + 100 + n.index}`).join(',');
      // Routers trust the controllers' certificates by the cluster CA, as node-0 holds it.
      const caFile = join(credentialsDir(join(dataDir, 'node-0')), 'ca.pem');
      for (const [j, name] of labRouterNames(routers).entries()) {
        const args = [
          'router',
          '--name',
          name,
          '--controllers',
          clusterUrls,
          '--listen',
          `127.0.0.1:${basePort + 201 + j}`,
        ];
        const agent = startAgent(name, args, {
          ...env,
          ...LAB_MODE,
          MESHDESK_ROUTER_SECRET: secret,
          MESHDESK_CA_FILE: caFile,
        });
        children.push(agent.child);
        agents.push(agent.child);
        await agent.ready;
      }
    }
    out(`meshdesk lab: ${controllers} controller(s) running, data in ${dataDir}`);
    for (const n of nodes) out(`  node-${n.index}: ${n.url}/`);
    if (routers > 0)
      out(`  routers: ${labRouterNames(routers).join(', ')} (links on ports ${basePort + 201}…)`);
    out(`  log in as admin / ${env.MESHDESK_ADMIN_PASSWORD ? '(MESHDESK_ADMIN_PASSWORD)' : password}`);
    out('  Ctrl-C stops the lab');
    const exited = new Promise<number>((resolve) => {
      for (const n of nodes) n.process.once('exit', (code) => resolve(code ?? 1));
      for (const a of agents) a.once('exit', (code) => resolve(code ?? 1));
    });
    const code = await Promise.race([exited, signalled]);
    if (code !== 0) out('meshdesk lab: a node exited; stopping the lab');
    return code;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await Promise.all(children.map(stopProcess));
    if (!given) await rm(dataDir, { recursive: true, force: true });
  }
}

/** A one-time join token for the next node, minted by node 0. */
async function invite(first: LabNode, password: string): Promise<string> {
  const client = new CliClient(first.url, { username: 'admin', password });
  return (await client.request<{ token: string }>('POST', '/cluster/invitations', {})).data.token;
}

/** Starts one node process; `ready` resolves with its UI URL once it says it is ready. */
function startNode(
  index: number,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): { child: ChildProcess; ready: Promise<LabNode> } {
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const ready = new Promise<LabNode>((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const ready = READY.exec(output);
      if (ready) {
        child.stdout.off('data', onData);
        resolve({ index, process: child, url: (ready[1] as string).replace(/\/$/, '') });
      }
    };
    child.stdout.on('data', onData);
    let errors = '';
    child.stderr.on('data', (chunk: Buffer) => {
      errors = (errors + chunk.toString()).slice(-4000);
    });
    child.once('exit', (code) => {
      reject(
        new Error(
          `node-${index} exited (${String(code)}) before it was ready: ${lastLine(errors) || lastLine(output)}`,
        ),
      );
    });
  });
  return { child, ready };
}

/** Creates the lab's router entities (keeping those that exist) and terminators on the last one. */
async function ensureLabRouters(client: CliClient, names: readonly string[]): Promise<void> {
  type Named = { id: string; name: string };
  const existing = (await client.request<{ data: Named[] }>('GET', '/routers?limit=1000')).data.data;
  const ids = new Map(existing.map((r) => [r.name, r.id]));
  for (const name of names) {
    if (ids.has(name)) continue;
    const created = await client.request<Named>('POST', '/routers', { name, cost: 10 });
    ids.set(name, created.data.id);
  }
  const last = ids.get(names.at(-1) ?? '');
  const services = (await client.request<{ data: Named[] }>('GET', '/services?limit=1000')).data.data;
  const terminators = (
    await client.request<{ data: { routerId: string; serviceId: string }[] }>(
      'GET',
      '/terminators?limit=1000',
    )
  ).data.data;
  for (const service of services.filter((s) => LAB_TERMINATED_SERVICES.includes(s.name))) {
    if (!last || terminators.some((t) => t.routerId === last && t.serviceId === service.id)) continue;
    await client.request('POST', '/terminators', {
      serviceId: service.id,
      routerId: last,
      address: `tcp:${service.name}.lab:80`,
    });
  }
}

/** Starts one router agent and resolves once it says it is ready. */
function startAgent(
  name: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): { child: ChildProcess; ready: Promise<void> } {
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const ready = new Promise<void>((resolve, reject) => {
    let output = '';
    let errors = '';
    child.stderr.on('data', (chunk: Buffer) => (errors = (errors + chunk.toString()).slice(-4000)));
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes('ready')) {
        child.stdout.off('data', onData);
        resolve();
      }
    };
    child.stdout.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${name} exited (${String(code)}): ${lastLine(errors)}`)));
  });
  return { child, ready };
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

function lastLine(text: string): string {
  return text.trim().split('\n').at(-1) ?? '';
}
