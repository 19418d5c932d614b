/**
 * `meshdesk lab`: a demo cluster of N controller processes on 127.0.0.1, seeded with a sample
 * model. Node 0 bootstraps, the others join it one at a time with a join token each that node 0
 * mints (membership changes are one at a time); Ctrl-C or SIGTERM stops them all. With an
 * existing --data-dir the lab restarts the nodes it finds there, with their data.
 *
 * A member that dies does not stop the lab (it is there to show failover): the lab says so and who
 * leads now, and `restart NAME` typed on its standard input brings the member back.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { randomSecret } from '../files.js';
import type { ClusterView } from '../cluster/types.js';
import { CliClient } from './api-client.js';
import { integer, parse, text } from './args.js';
import { credentialsDir } from '../cluster/credentials.js';
import { LabSupervisor } from './lab-supervisor.js';
import { enrollRouter } from '../router/enrollment.js';
import { readRouterIdentity, writeRouterIdentity } from '../router/identity.js';
import { LAB_TERMINATED_SERVICES, SAMPLE_MODEL, labRouterNames } from './lab-model.js';

const LAB_COMMANDS = `  status         each member's state, process id and URL, and who leads
  kill NAME      kill a member (node-0…, router-1…) as a crash would (SIGKILL)
  restart NAME   start a member again with its data (stopping it first if it runs)
  quit           stop the lab, as Ctrl-C does
  help           this list`;

export const LAB_USAGE = `usage: meshdesk lab [options]

Runs a local demo cluster on 127.0.0.1 with a sample model, until Ctrl-C.
Node i serves the API and UI on port P+i and the cluster on P+100+i.

options:
  --controllers N   controller processes (default 3, at most 7)
  --routers M       router agents router-1..M (default 0); router j accepts links on P+200+j
  --data-dir D      keep the nodes' data here, to run the same lab again later
                    (default: a temporary directory, removed when the lab stops)
  --base-port P     first API port (default 8440)
  --ui DIR          the admin UI each node serves (default: renderer/dist, once built)

While it runs, type these on its standard input:
${LAB_COMMANDS}
A member that dies (killed, crashed) leaves the others running: the lab says so and who leads.

The admin password comes from MESHDESK_ADMIN_PASSWORD, or is generated and printed.
A lab runs with its fault hooks on (PUT /api/v1/runtime/faults, /api/v1/debug/*, the routers'
/faults/*): never use one as a real site.`;

const OPTIONS = {
  controllers: { type: 'string' },
  routers: { type: 'string' },
  'data-dir': { type: 'string' },
  'base-port': { type: 'string' },
  ui: { type: 'string' },
} as const;

const BIN = fileURLToPath(new URL('../../bin/meshdesk.js', import.meta.url));
const READY = /ready — UI at (\S+)/;
/** What makes a process a lab's: the fault hooks production nodes and routers do not have. */
const LAB_MODE = { MESHDESK_FAULT_INJECTION: '1' } as const;

/** A running lab: its processes and what it last told of them. */
interface Lab {
  readonly supervisor: LabSupervisor;
  readonly password: string;
  readonly out: (line: string) => void;
  /** One logged-in client per node URL, dropped when a request fails (node restarted, token expired). */
  readonly clients: Map<string, CliClient>;
  /** The leader last announced, so that only a change is news. */
  leader: string | null;
}

/** The lab's client for the node at `url`, logged in as admin on first use. */
function clientOf(lab: Pick<Lab, 'clients' | 'password'>, url: string): CliClient {
  let client = lab.clients.get(url);
  if (!client) {
    client = new CliClient(url, { username: 'admin', password: lab.password });
    lab.clients.set(url, client);
  }
  return client;
}

export async function lab(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  out: (line: string) => void,
  input: NodeJS.ReadableStream = process.stdin,
): Promise<number> {
  const { values, help } = parse(argv, OPTIONS);
  if (help) {
    out(LAB_USAGE);
    return 0;
  }
  const controllers = integer('controllers', text(values, 'controllers') ?? '3', 1, 7);
  const routers = integer('routers', text(values, 'routers') ?? '0', 0, 64);
  const basePort = integer('base-port', text(values, 'base-port') ?? '8440', 1, 65535 - 200 - routers);
  const ui = text(values, 'ui');
  const given = text(values, 'data-dir');
  const dataDir = given ?? (await mkdtemp(join(tmpdir(), 'meshdesk-lab-')));
  const fresh = !existsSync(join(credentialsDir(join(dataDir, 'node-0')), 'node.pem'));
  const password = env.MESHDESK_ADMIN_PASSWORD ?? randomSecret(12);
  const state: Lab = {
    password,
    out,
    clients: new Map(),
    leader: null,
    supervisor: new LabSupervisor({
      command: [process.execPath, BIN],
      onUnexpectedExit: (member) => {
        out(
          `meshdesk lab: ${member.name} (pid ${String(member.pid)}) ${member.exit ?? 'exited'}; ` +
            `the lab keeps running ('restart ${member.name}' brings it back)`,
        );
        if (member.kind === 'controller') void announceLeader(state);
      },
    }),
  };
  const { supervisor } = state;
  // Listening from the start: a signal while nodes are still starting stops those already up.
  let finish: () => void = () => undefined;
  const finished = new Promise<number>((resolve) => (finish = () => resolve(0)));
  process.once('SIGINT', finish);
  process.once('SIGTERM', finish);
  const commands = createInterface({ input, terminal: false });
  try {
    out(
      `meshdesk lab: starting ${controllers} controller(s)${routers ? ` and ${routers} router(s)` : ''}, data in ${dataDir}`,
    );
    const nodeUrls: string[] = [];
    for (let i = 0; i < controllers; i++) {
      const name = `node-${i}`;
      const dir = join(dataDir, name);
      await mkdir(dir, { recursive: true });
      const role = fresh && i === 0 ? ['--bootstrap'] : [];
      // A token by environment, not argv (which every local user can read).
      const joining =
        fresh && i > 0 ? { MESHDESK_JOIN_TOKEN: await invite(clientOf(state, nodeUrls[0] as string)) } : {};
      const args = [
        'start',
        '--data-dir',
        dir,
        '--name',
        name,
        '--api',
        `127.0.0.1:${basePort + i}`,
        '--cluster',
        `127.0.0.1:${basePort + 100 + i}`,
        ...(ui ? ['--ui', ui] : []),
      ];
      // Lab mode: the fault hooks (slow a router channel, cut a link) are there to teach with.
      const nodeEnv = { ...env, ...LAB_MODE, MESHDESK_ADMIN_PASSWORD: password };
      const started = await Promise.race([
        supervisor.start({
          name,
          kind: 'controller',
          args: [...args, ...role],
          env: { ...nodeEnv, ...joining },
          ready: READY,
          // Started again, a node has its data: it neither bootstraps nor joins.
          restartArgs: args,
          restartEnv: nodeEnv,
        }),
        finished.then(() => undefined),
      ]);
      if (!started) return 0;
      nodeUrls.push(started.url as string);
      out(`  ${name} up (pid ${String(started.pid)})`);
    }
    const client = clientOf(state, nodeUrls[0] as string);
    if (fresh) await client.request('POST', '/batch', { operations: SAMPLE_MODEL });
    if (routers > 0) {
      const ids = await ensureLabRouters(client, labRouterNames(routers));
      const clusterUrls = nodeUrls.map((_, i) => `https://127.0.0.1:${basePort + 100 + i}`).join(',');
      for (const [j, name] of labRouterNames(routers).entries()) {
        // Each router enrolls for its own certificate: the lab has no shared secret either.
        const identity = await labRouterIdentity(client, dataDir, name, ids.get(name) as string);
        const started = await Promise.race([
          supervisor.start({
            name,
            kind: 'router',
            args: [
              'router',
              '--identity',
              identity,
              '--controllers',
              clusterUrls,
              '--listen',
              `127.0.0.1:${basePort + 201 + j}`,
            ],
            env: { ...env, ...LAB_MODE },
            ready: /ready/,
          }),
          finished.then(() => undefined),
        ]);
        if (!started) return 0;
        out(`  ${name} up (pid ${String(started.pid)}, on its certificate)`);
      }
    }
    state.leader = (await currentLeader(state))?.name ?? null;
    out(`meshdesk lab: ${controllers} controller(s) running, data in ${dataDir}`);
    for (const m of supervisor.status().filter((s) => s.kind === 'controller')) {
      const leads = m.name === state.leader ? ', leader' : '';
      out(`  ${m.name}: ${String(m.url)}/ (pid ${String(m.pid)}${leads})`);
    }
    if (routers > 0)
      out(`  routers: ${labRouterNames(routers).join(', ')} (links on ports ${basePort + 201}…)`);
    out(`  log in as admin / ${env.MESHDESK_ADMIN_PASSWORD ? '(MESHDESK_ADMIN_PASSWORD)' : password}`);
    out(`  type ${COMMAND_SUMMARY} here; Ctrl-C stops the lab`);
    // One command at a time, in the order typed: a status after a kill shows the kill's outcome.
    let queue = Promise.resolve();
    commands.on('line', (line) => (queue = queue.then(() => runCommand(state, line, finish))));
    return await finished;
  } finally {
    commands.close();
    process.off('SIGINT', finish);
    process.off('SIGTERM', finish);
    await supervisor.stopAll();
    if (!given) await rm(dataDir, { recursive: true, force: true });
  }
}

const COMMAND_SUMMARY = "'status', 'kill NAME', 'restart NAME' or 'help'";

/** One line typed at the lab: a command for its members. Failures are told, never thrown. */
async function runCommand(lab: Lab, line: string, quit: () => void): Promise<void> {
  const [verb, name, ...extra] = line.trim().split(/\s+/);
  const { supervisor, out } = lab;
  try {
    if (!verb) return;
    if (extra.length > 0) throw new Error(`'${verb}' takes one member name`);
    switch (verb) {
      case 'help':
        out(LAB_COMMANDS);
        return;
      case 'quit':
      case 'exit':
        quit();
        return;
      case 'status':
        await printStatus(lab);
        return;
      case 'kill':
      case 'restart': {
        if (!name) throw new Error(`'${verb}' needs a member name, e.g. '${verb} node-1'`);
        if (verb === 'kill') {
          const killed = await supervisor.kill(name);
          out(`meshdesk lab: ${name} (pid ${String(killed.pid)}) ${killed.exit ?? 'killed'}`);
          if (killed.kind === 'controller') await announceLeader(lab);
        } else {
          out(`meshdesk lab: restarting ${name}…`);
          const back = await supervisor.restart(name);
          out(`meshdesk lab: ${name} is back (pid ${String(back.pid)})${back.url ? ` at ${back.url}/` : ''}`);
        }
        return;
      }
      default:
        throw new Error(`unknown command '${verb}' (type ${COMMAND_SUMMARY})`);
    }
  } catch (err) {
    out(`meshdesk lab: ${(err as Error).message}`);
  }
}

async function printStatus(lab: Lab): Promise<void> {
  const leader = await currentLeader(lab);
  if (leader) lab.leader = leader.name;
  for (const m of lab.supervisor.status()) {
    const state = m.state === 'exited' ? `down (${m.exit ?? 'exited'})` : m.state;
    const where = m.url ? `  ${m.url}/` : '';
    const leads = m.name === leader?.name ? '  leader' : '';
    lab.out(`  ${m.name.padEnd(10)} ${state.padEnd(24)} pid ${String(m.pid).padEnd(8)}${where}${leads}`);
  }
  if (!leader) lab.out('  no leader: fewer than a majority of the controllers run');
}

/** The leader as the running nodes see it: a running node that one of them names. */
async function currentLeader(lab: Lab): Promise<{ name: string; term: number } | null> {
  const running = lab.supervisor.status().filter((m) => m.kind === 'controller' && m.state === 'running');
  for (const node of running) {
    if (!node.url) continue;
    try {
      const view = (await clientOf(lab, node.url).request<ClusterView>('GET', '/cluster')).data;
      const leader = view.members.find((m) => m.id === view.leaderId);
      if (leader && running.some((m) => m.name === leader.name))
        return { name: leader.name, term: view.term };
    } catch {
      // This node cannot answer now (restarting, or its token is stale): ask the next one, and
      // log in afresh next time.
      lab.clients.delete(node.url);
    }
  }
  return null;
}

/** After a controller went down: waits (bounded) for the cluster to settle and says who leads. */
async function announceLeader(lab: Lab): Promise<void> {
  const deadline = Date.now() + LEADER_WAIT_MS;
  for (;;) {
    const leader = await currentLeader(lab);
    if (leader) {
      const news = leader.name === lab.leader ? 'still leads' : 'now leads';
      lab.leader = leader.name;
      lab.out(`meshdesk lab: ${leader.name} ${news} (term ${leader.term})`);
      return;
    }
    if (Date.now() >= deadline) {
      lab.leader = null;
      lab.out(
        'meshdesk lab: no leader: fewer than a majority of the controllers run, so writes stop until one is restarted',
      );
      return;
    }
    await delay(LEADER_POLL_MS);
  }
}

/** An election takes about a second; a lab without a majority never has one. */
const LEADER_WAIT_MS = 15_000;
const LEADER_POLL_MS = 250;

/** A one-time join token for the next node, minted by node 0. */
async function invite(client: CliClient): Promise<string> {
  return (await client.request<{ token: string }>('POST', '/cluster/invitations', {})).data.token;
}

/** Creates the lab's router entities (keeping those that exist) and terminators on the last one. */
async function ensureLabRouters(
  client: CliClient,
  names: readonly string[],
): Promise<ReadonlyMap<string, string>> {
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
  return ids;
}

/**
 * The identity file of a lab router: the one a lab run with this data directory enrolled before,
 * else a new enrollment (a token minted and spent here, the key made here), owner-only.
 */
async function labRouterIdentity(
  client: CliClient,
  dataDir: string,
  name: string,
  routerId: string,
): Promise<string> {
  const file = join(dataDir, 'routers', `${name}.json`);
  const kept = await readRouterIdentity(file).catch(() => undefined);
  if (kept?.router.id === routerId) return file;
  const { token } = (
    await client.request<{ token: string }>('POST', `/routers/${encodeURIComponent(routerId)}/enrollment`, {
      expiresInMinutes: 10,
    })
  ).data;
  await mkdir(join(dataDir, 'routers'), { recursive: true, mode: 0o700 });
  await writeRouterIdentity(file, await enrollRouter(token));
  return file;
}
