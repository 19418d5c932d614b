/** `meshdesk router`: run a router agent until SIGINT/SIGTERM (core/router/router-agent.ts). */
import pino from 'pino';
import { certificateCredentials } from '../router/credentials.js';
import { readRouterIdentity, writeRouterIdentity, type RouterIdentity } from '../router/identity.js';
import { RouterAgent } from '../router/router-agent.js';
import { hostPort, logLevel, parse, text, UsageError } from './args.js';
import { routerEnroll, routerInvite } from './router-enroll.js';

export const ROUTER_USAGE = `usage: meshdesk router --identity FILE [--listen HOST:PORT] [--controllers URLS]
       meshdesk router invite ROUTER     a one-time enrollment token for a router (admins)
       meshdesk router enroll TOKEN --out FILE   the router's own key and certificate

Runs a router agent: it connects to every controller's cluster listener, keeps links to the other
routers, and forwards the circuits the controllers route through it.

options:
  --identity FILE       the router's identity from 'meshdesk router enroll': it connects with its
                        own certificate (mutual TLS to controllers and routers alike) to the
                        controllers the file names (or --controllers)
  --controllers URLS    instead of the file's: the controllers' cluster listeners, comma-separated
                        (TLS: e.g. https://127.0.0.1:8540,https://127.0.0.1:8541 or HOST:PORT)
  --listen HOST:PORT    accept links from other routers here, and serve GET /status (HTTPS, to
                        this router's own certificate or a controller's); without it the router
                        only dials

MESHDESK_FAULT_INJECTION=1 (tests and 'meshdesk lab' only) adds the link fault hooks
POST /faults/block and /faults/unblock to the status endpoint.`;

const OPTIONS = {
  identity: { type: 'string' },
  controllers: { type: 'string' },
  listen: { type: 'string' },
  // Options of versions with the routers' shared secret: refused with what to do instead.
  name: { type: 'string' },
  'secret-file': { type: 'string' },
  secret: { type: 'string' },
  ca: { type: 'string' },
} as const;

const RETIRED = ['name', 'secret-file', 'secret', 'ca'] as const;

export interface RouterArgs {
  /** The router's identity file from `meshdesk router enroll` (read at start). */
  readonly identityFile: string;
  /** Instead of the identity file's list; empty: the file's. */
  readonly controllers: readonly string[];
  readonly listen?: { host: string; port: number };
  /** The link fault hooks on the status endpoint (MESHDESK_FAULT_INJECTION=1: tests and the lab). */
  readonly faults: boolean;
}

export function parseRouter(argv: readonly string[], env: NodeJS.ProcessEnv): RouterArgs | 'help' {
  const { values, help } = parse(argv, OPTIONS);
  if (help) return 'help';
  for (const flag of RETIRED) {
    if (values[flag] !== undefined) {
      throw new UsageError(
        `--${flag} is gone: routers have no shared secret any more; enroll the router ('meshdesk router enroll TOKEN --out router.json') and run it with --identity router.json`,
      );
    }
  }
  const identityFile = text(values, 'identity');
  if (!identityFile) {
    throw new UsageError(
      "--identity FILE is required: the router's identity from 'meshdesk router enroll TOKEN --out FILE'",
    );
  }
  const list = text(values, 'controllers');
  const listen = text(values, 'listen');
  return {
    identityFile,
    controllers: list ? list.split(',').map((entry) => controllerUrl(entry.trim())) : [],
    ...(listen ? { listen: hostPort('listen', listen) } : {}),
    faults: env.MESHDESK_FAULT_INJECTION === '1',
  };
}

/** `https://host:port` or plain `host:port`, as the origin socket.io dials: cluster listeners speak TLS only. */
function controllerUrl(entry: string): string {
  if (entry.startsWith('http://')) {
    throw new UsageError(
      `--controllers: '${entry}' is plaintext; cluster listeners speak TLS only (https://)`,
    );
  }
  const withScheme = entry.startsWith('https://') ? entry : `https://${entry}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new UsageError(`--controllers: '${entry}' is not a URL or HOST:PORT`);
  }
  if (!url.port && !/^https:\/\/[^/]+:\d+/.test(withScheme)) {
    throw new UsageError(`--controllers: '${entry}' needs a port (the cluster listener's)`);
  }
  return url.origin;
}

export async function router(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  out: (line: string) => void,
): Promise<number> {
  if (argv[0] === 'enroll') return routerEnroll(argv.slice(1), env, out);
  if (argv[0] === 'invite') return routerInvite(argv.slice(1), env, out);
  const args = parseRouter(argv, env);
  if (args === 'help') {
    out(ROUTER_USAGE);
    return 0;
  }
  const identity = await readIdentity(args.identityFile);
  const shown = `${identity.router.name} (${identity.router.id})`;
  const controllers = args.controllers.length > 0 ? args.controllers : identity.controllers;
  const logger = pino({ level: logLevel(env) }, pino.destination(2)).child({ router: shown });
  const agent = await RouterAgent.start({
    controllers,
    credentials: certificateCredentials(identity),
    ...(args.listen ? { listen: args.listen } : {}),
    faults: args.faults,
    log: logger,
    // A renewed certificate is kept where the router reads it at its next start.
    onRenewed: (renewed) =>
      writeRouterIdentity(args.identityFile, {
        ...identity,
        key: renewed.key,
        certificate: renewed.cert,
        ca: renewed.ca,
      }),
  });
  out(
    `meshdesk: router ${shown} ready — ${agent.address ? `links on ${agent.address}` : 'dial only'}, ${controllers.length} controller(s), on its certificate`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await agent.close();
  return 0;
}

async function readIdentity(file: string): Promise<RouterIdentity> {
  try {
    return await readRouterIdentity(file);
  } catch (err) {
    throw new UsageError(`--identity: ${(err as Error).message}`);
  }
}
