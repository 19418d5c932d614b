/** `meshdesk start`: run one controller node headless until SIGINT/SIGTERM. */
import pino from 'pino';
import { startController, type Controller } from '../controller.js';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defaultDataDir } from '../files.js';
import { hostPort, httpUrl, parse, text, UsageError } from './args.js';

export const START_USAGE = `usage: meshdesk start [options]

Runs a controller node headless and prints the UI URL when it is ready.

options:
  --data-dir D          where the node keeps its data (default: ${defaultDataDir()})
  --name N              the node's name in the cluster (default: its id)
  --api HOST:PORT       REST API and UI listener (default 127.0.0.1:8440)
  --cluster HOST:PORT   cluster listener for peers and routers, mutual TLS 1.3 only
                        (default 0.0.0.0:8441)
  --advertise HOST:PORT the cluster address peers use to reach this node (its certificate names
                        its host)
  --bootstrap           on an empty data dir: create a new one-node cluster, its CA (D/tls/) and
                        its first admin (password from MESHDESK_ADMIN_PASSWORD, or generated,
                        printed once and written to D/admin-password; secret from
                        MESHDESK_CLUSTER_SECRET, or generated and written to D/cluster-secret)
  --join URL            on an empty data dir: join the cluster of the member whose API is at URL
                        (the member signs this node's certificate; check the CA fingerprint it
                        logs against 'meshdesk cluster ca')
  --secret S            the cluster secret, to join (or MESHDESK_CLUSTER_SECRET)
  --ui DIR              serve the admin UI from DIR (default: renderer/dist, once built with
                        'npm run build:renderer')`;

const OPTIONS = {
  'data-dir': { type: 'string' },
  name: { type: 'string' },
  api: { type: 'string' },
  cluster: { type: 'string' },
  advertise: { type: 'string' },
  bootstrap: { type: 'boolean' },
  join: { type: 'string' },
  secret: { type: 'string' },
  ui: { type: 'string' },
} as const;

export interface StartArgs {
  readonly dataDir: string;
  readonly name?: string;
  readonly api: { host: string; port: number };
  readonly cluster: { host: string; port: number };
  readonly advertise?: string;
  readonly bootstrap: boolean;
  readonly join?: string;
  readonly secret?: string;
  readonly uiDir?: string;
}

export function parseStart(argv: readonly string[], env: NodeJS.ProcessEnv): StartArgs | 'help' {
  const { values, help } = parse(argv, OPTIONS);
  if (help) return 'help';
  const join = text(values, 'join');
  if (values.bootstrap && join) throw new UsageError('--bootstrap and --join exclude each other');
  const advertise = text(values, 'advertise');
  if (advertise) hostPort('advertise', advertise);
  const secret = text(values, 'secret') ?? env.MESHDESK_CLUSTER_SECRET;
  if (secret !== undefined && secret.length < 16) {
    throw new UsageError('the cluster secret must be at least 16 characters');
  }
  const name = text(values, 'name');
  const uiDir = text(values, 'ui') ?? builtUiDir();
  return {
    dataDir: text(values, 'data-dir') ?? defaultDataDir(env),
    ...(name ? { name } : {}),
    api: hostPort('api', text(values, 'api') ?? '127.0.0.1:8440'),
    cluster: hostPort('cluster', text(values, 'cluster') ?? '0.0.0.0:8441'),
    ...(advertise ? { advertise } : {}),
    bootstrap: values.bootstrap === true,
    ...(join ? { join: httpUrl('join', join) } : {}),
    ...(secret ? { secret } : {}),
    ...(uiDir ? { uiDir } : {}),
  };
}

/** Starts the node; resolves with it once it serves the API. */
export async function runStart(
  args: StartArgs,
  env: NodeJS.ProcessEnv,
  seed?: Uint8Array,
): Promise<Controller> {
  const logger = pino({ level: env.MESHDESK_LOG_LEVEL ?? 'warn' }, pino.destination(2));
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
            ...(args.secret ? { secret: args.secret } : {}),
            ...(seed ? { seed } : {}),
          },
        }
      : {}),
    ...(args.join ? { join: { url: args.join, secret: args.secret ?? '' } } : {}),
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
    `meshdesk: node ${controller.node.name} (${controller.node.id}) of cluster ${controller.node.clusterId} ready — UI at ${controller.url}/\n`,
  );
  return controller;
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

/** The UI built by `npm run build:renderer`, when it has been built. */
function builtUiDir(): string | undefined {
  const dir = fileURLToPath(new URL('../../renderer/dist', import.meta.url));
  return existsSync(`${dir}/index.html`) ? dir : undefined;
}
