/** `meshdesk start`: run one controller node headless until SIGINT/SIGTERM. */
import pino from 'pino';
import { startController, type Controller } from '../controller.js';
import { existsSync, readFileSync } from 'node:fs';
import { parseJoinToken } from '../cluster/join-token.js';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultDataDir } from '../files.js';
import { hostPort, logLevel, parse, text, UsageError } from './args.js';

export const START_USAGE = `usage: meshdesk start [options]

Runs a controller node headless and prints the UI URL when it is ready.

options:
  --data-dir D          where the node keeps its data (default: ${defaultDataDir()})
  --name N              the node's name in the cluster (default: its id)
  --api HOST:PORT       REST API and UI listener (default 127.0.0.1:8440): plain HTTP on
                        loopback, HTTPS with the node's certificate on any other address
  --cluster HOST:PORT   cluster listener for peers and routers, mutual TLS 1.3 only
                        (default 0.0.0.0:8441)
  --advertise HOST:PORT the cluster address peers use to reach this node (its certificate names
                        its host). Default with a 0.0.0.0 bind: the address of the interface of
                        the default route, or the machine's only LAN address; with several and
                        no default route the node refuses to guess: pass this
  --bootstrap           on an empty data dir: create a new one-node cluster, its CA (D/tls/) and
                        its first admin (password from MESHDESK_ADMIN_PASSWORD, or generated,
                        printed once and written to D/admin-password)
  --join TOKEN          on an empty data dir: join the cluster with a one-time join token from
                        'meshdesk cluster invite' (or the UI's Cluster page); it names the member
                        to ask and pins the cluster CA by its fingerprint
  --join-file F         the same, with the token read from file F (keeps it out of the process
                        list); or set MESHDESK_JOIN_TOKEN
  --ui DIR              serve the admin UI from DIR (default: renderer/dist, once built with
                        'npm run build:renderer')

environment:
  MESHDESK_LOG_LEVEL    what the node logs to stderr, as JSON lines: fatal, error, warn, info
                        (default: who leads, peers that come and go, members added), debug,
                        trace or silent`;

const OPTIONS = {
  'data-dir': { type: 'string' },
  name: { type: 'string' },
  api: { type: 'string' },
  cluster: { type: 'string' },
  advertise: { type: 'string' },
  bootstrap: { type: 'boolean' },
  join: { type: 'string' },
  'join-file': { type: 'string' },
  ui: { type: 'string' },
} as const;

export interface StartArgs {
  readonly dataDir: string;
  readonly name?: string;
  readonly api: { host: string; port: number };
  readonly cluster: { host: string; port: number };
  readonly advertise?: string;
  readonly bootstrap: boolean;
  /** A join token, read from the flag, the file or the environment. */
  readonly join?: string;
  readonly uiDir?: string;
}

export function parseStart(argv: readonly string[], env: NodeJS.ProcessEnv): StartArgs | 'help' {
  const { values, help } = parse(argv, OPTIONS);
  if (help) return 'help';
  if (values.bootstrap && (values.join !== undefined || values['join-file'] !== undefined)) {
    throw new UsageError('--bootstrap and --join exclude each other');
  }
  const join = joinToken(values, env);
  if (values.bootstrap && join) {
    throw new UsageError('--bootstrap and --join exclude each other (MESHDESK_JOIN_TOKEN is set)');
  }
  const advertise = text(values, 'advertise');
  if (advertise) hostPort('advertise', advertise);
  const name = text(values, 'name');
  const uiDir = text(values, 'ui') ?? builtUiDir();
  return {
    dataDir: text(values, 'data-dir') ?? defaultDataDir(env),
    ...(name ? { name } : {}),
    api: hostPort('api', text(values, 'api') ?? '127.0.0.1:8440'),
    cluster: hostPort('cluster', text(values, 'cluster') ?? '0.0.0.0:8441'),
    ...(advertise ? { advertise } : {}),
    bootstrap: values.bootstrap === true,
    ...(join ? { join } : {}),
    ...(uiDir ? { uiDir } : {}),
  };
}

/** Starts the node; resolves with it once it serves the API. */
export async function runStart(
  args: StartArgs,
  env: NodeJS.ProcessEnv,
  seed?: Uint8Array,
): Promise<Controller> {
  const logger = pino({ level: logLevel(env) }, pino.destination(2));
  const adminPassword = env.MESHDESK_ADMIN_PASSWORD;
  const controller = await startController({
    dataDir: args.dataDir,
    ...(args.name ? { name: args.name } : {}),
    api: args.api,
    cluster: args.cluster,
    ...(args.advertise ? { advertise: args.advertise } : {}),
    ...(args.bootstrap
      ? {
          bootstrap: {
            ...(adminPassword ? { adminPassword } : {}),
            ...(seed ? { seed } : {}),
          },
        }
      : {}),
    ...(args.join ? { join: { token: args.join } } : {}),
    ...(args.uiDir ? { uiDir: args.uiDir } : {}),
    // Test-only hooks for the Jepsen suite (docs/ARCHITECTURE.md): exactly "1" turns them on.
    ...(env.MESHDESK_FAULT_INJECTION === '1' ? { faultInjection: true } : {}),
    logger,
  });
  if (controller.generatedAdminPassword) {
    process.stdout.write(
      `meshdesk: first admin 'admin' created; password (shown once, also in ${args.dataDir}/admin-password): ${controller.generatedAdminPassword}\n`,
    );
  }
  process.stdout.write(
    `meshdesk: node ${controller.node.name} (${controller.node.id}) of cluster ${controller.node.clusterId} ready — UI at ${controller.url}/${plainNote(controller.url)}\n`,
  );
  return controller;
}

/** Said on the start line of a node whose API is plain HTTP, so nobody mistakes it for HTTPS. */
function plainNote(url: string): string {
  return url.startsWith('http:')
    ? ' (plain HTTP, loopback only; an --api bind beyond loopback serves HTTPS)'
    : '';
}

/** Runs until SIGINT/SIGTERM, then stops cleanly. */
export async function startUntilSignalled(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  out: (line: string) => void,
): Promise<number> {
  const args = parseStart(argv, env);
  if (args === 'help') {
    out(START_USAGE);
    return 0;
  }
  // A data directory without a node is a first start: it must say which cluster to be part of.
  if (!args.bootstrap && !args.join && !existsSync(join(args.dataDir, 'node.json'))) {
    throw new UsageError(
      `${args.dataDir} holds no node yet: pass --bootstrap to create a new cluster, or --join TOKEN (or MESHDESK_JOIN_TOKEN) with a token from 'meshdesk cluster invite' on a member`,
    );
  }
  await serveUntilSignalled(await runStart(args, env));
  return 0;
}

/** Keeps a started controller running until SIGINT/SIGTERM, then stops it cleanly. */
export async function serveUntilSignalled(controller: Controller): Promise<void> {
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await controller.stop();
}

/**
 * The join token from --join, --join-file or MESHDESK_JOIN_TOKEN, checked for its form now so
 * that a token cut short in a paste fails in one line before anything starts.
 */
function joinToken(
  values: Record<string, string | boolean | undefined>,
  env: NodeJS.ProcessEnv,
): string | undefined {
  const flag = text(values, 'join');
  const file = text(values, 'join-file');
  if (flag && file) throw new UsageError('--join and --join-file exclude each other');
  let token = flag ?? env.MESHDESK_JOIN_TOKEN;
  if (file) {
    try {
      token = readFileSync(file, 'utf8');
    } catch (err) {
      throw new UsageError(`--join-file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
  }
  if (token === undefined || token.trim() === '') return undefined;
  try {
    parseJoinToken(token);
  } catch (err) {
    throw new UsageError(`--join: ${(err as Error).message}`);
  }
  return token.trim();
}

/** The UI built by `npm run build:renderer`, when it has been built. */
function builtUiDir(): string | undefined {
  const dir = fileURLToPath(new URL('../../renderer/dist', import.meta.url));
  return existsSync(`${dir}/index.html`) ? dir : undefined;
}
