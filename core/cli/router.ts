/** `meshdesk router`: run a router agent until SIGINT/SIGTERM (core/router/router-agent.ts). */
import pino from 'pino';
import { RouterAgent } from '../router/router-agent.js';
import { hostPort, parse, text, UsageError } from './args.js';

export const ROUTER_USAGE = `usage: meshdesk router --name N --controllers URL[,URL...] [options]

Runs a router agent: it connects to every controller's cluster listener, keeps links to the other
routers, and forwards the circuits the controllers route through it.

options:
  --name N              the router's name; a router with this name must exist in the model
  --controllers URLS    the controllers' cluster listeners, comma-separated
                        (e.g. http://127.0.0.1:8540,http://127.0.0.1:8541)
  --secret S            the cluster secret (or MESHDESK_CLUSTER_SECRET)
  --listen HOST:PORT    accept links from other routers here (and serve GET /status with
                        'Authorization: Bearer <secret>'); without it the router only dials`;

const OPTIONS = {
  name: { type: 'string' },
  controllers: { type: 'string' },
  secret: { type: 'string' },
  listen: { type: 'string' },
} as const;

export interface RouterArgs {
  readonly name: string;
  readonly controllers: readonly string[];
  readonly secret: string;
  readonly listen?: { host: string; port: number };
}

export function parseRouter(argv: readonly string[], env: NodeJS.ProcessEnv): RouterArgs | 'help' {
  const { values, help } = parse(argv, OPTIONS);
  if (help) return 'help';
  const name = text(values, 'name');
  if (!name) throw new UsageError('--name is required');
  if (name.length > 256) throw new UsageError('--name must be at most 256 characters');
  const list = text(values, 'controllers');
  if (!list) throw new UsageError('--controllers is required');
  const controllers = list.split(',').map((entry) => controllerUrl(entry.trim()));
  const secret = text(values, 'secret') ?? env.MESHDESK_CLUSTER_SECRET;
  if (!secret) throw new UsageError('--secret (or MESHDESK_CLUSTER_SECRET) is required');
  if (secret.length < 16) throw new UsageError('the cluster secret must be at least 16 characters');
  const listen = text(values, 'listen');
  return { name, controllers, secret, ...(listen ? { listen: hostPort('listen', listen) } : {}) };
}

/** `http://host:port` or plain `host:port`, as the origin socket.io dials. */
function controllerUrl(entry: string): string {
  const withScheme = /^https?:\/\//.test(entry) ? entry : `http://${entry}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new UsageError(`--controllers: '${entry}' is not a URL or HOST:PORT`);
  }
  if (!url.port && !/^https?:\/\/[^/]+:\d+/.test(withScheme)) {
    throw new UsageError(`--controllers: '${entry}' needs a port (the cluster listener's)`);
  }
  return url.origin;
}

export async function router(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  out: (line: string) => void,
): Promise<number> {
  const args = parseRouter(argv, env);
  if (args === 'help') {
    out(ROUTER_USAGE);
    return 0;
  }
  const logger = pino({ level: env.MESHDESK_LOG_LEVEL ?? 'warn' }, pino.destination(2)).child({
    router: args.name,
  });
  const agent = await RouterAgent.start({
    name: args.name,
    controllers: args.controllers,
    secret: args.secret,
    ...(args.listen ? { listen: args.listen } : {}),
    log: logger,
  });
  out(
    `meshdesk: router ${args.name} ready — ${agent.address ? `links on ${agent.address}` : 'dial only'}, ${args.controllers.length} controller(s)`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await agent.close();
  return 0;
}
