/** `meshdesk router`: run a router agent until SIGINT/SIGTERM (core/router/router-agent.ts). */
import { readFileSync } from 'node:fs';
import pino from 'pino';
import { certificateCredentials, type RouterCredentials } from '../router/credentials.js';
import { readRouterIdentity, type RouterIdentity } from '../router/identity.js';
import { RouterAgent } from '../router/router-agent.js';
import { hostPort, logLevel, parse, text, UsageError } from './args.js';
import { refuseSecretInArgv, secretFromFile } from './credentials.js';
import { routerEnroll, routerInvite } from './router-enroll.js';

export const ROUTER_USAGE = `usage: meshdesk router --identity FILE [--listen HOST:PORT] [--controllers URLS]
       meshdesk router --name N --controllers URL[,URL...] --ca FILE --secret-file F [options]
       meshdesk router invite ROUTER     a one-time enrollment token for a router (admins)
       meshdesk router enroll TOKEN --out FILE   the router's own key and certificate

Runs a router agent: it connects to every controller's cluster listener, keeps links to the other
routers, and forwards the circuits the controllers route through it.

options:
  --identity FILE       the router's identity from 'meshdesk router enroll': it connects with its
                        own certificate (mutual TLS to controllers and routers alike) to the
                        controllers the file names (or --controllers)
  --name N              (without --identity) the router's name; a router with this name must exist
  --controllers URLS    the controllers' cluster listeners, comma-separated
                        (TLS: e.g. https://127.0.0.1:8540,https://127.0.0.1:8541 or HOST:PORT)
  --ca FILE             the cluster root CA, PEM (from 'meshdesk cluster ca'; or MESHDESK_CA_FILE):
                        a controller must present a certificate it issued
  --secret-file F       a file holding the routers' secret, from 'meshdesk cluster router-secret'
                        (or MESHDESK_ROUTER_SECRET; MESHDESK_CLUSTER_SECRET from older versions works)
  --listen HOST:PORT    accept links from other routers here, and serve GET /status (with
                        --identity: HTTPS to this router's or a controller's certificate;
                        else with 'Authorization: Bearer <secret>'); without it the router only dials

MESHDESK_FAULT_INJECTION=1 (tests and 'meshdesk lab' only) adds the link fault hooks
POST /faults/block and /faults/unblock to the status endpoint.`;

const OPTIONS = {
  identity: { type: 'string' },
  name: { type: 'string' },
  controllers: { type: 'string' },
  'secret-file': { type: 'string' },
  // Refused with a reason (argv is visible to every local user), not as an unknown option.
  secret: { type: 'string' },
  ca: { type: 'string' },
  listen: { type: 'string' },
} as const;

export interface RouterArgs {
  /** The label the router goes by: its id (certificate) or its model name (shared secret). */
  readonly name: string;
  readonly controllers: readonly string[];
  /** Where the credentials come from: an identity file (read at start), else the shared secret. */
  readonly credentials: { readonly identityFile: string } | RouterCredentials;
  readonly listen?: { host: string; port: number };
  /** The link fault hooks on the status endpoint (MESHDESK_FAULT_INJECTION=1: tests and the lab). */
  readonly faults: boolean;
}

export function parseRouter(argv: readonly string[], env: NodeJS.ProcessEnv): RouterArgs | 'help' {
  const { values, help } = parse(argv, OPTIONS);
  if (help) return 'help';
  const identityFile = text(values, 'identity');
  if (identityFile) return withIdentity(identityFile, values, env);
  const name = text(values, 'name');
  if (!name) throw new UsageError('--name is required');
  if (name.length > 256) throw new UsageError('--name must be at most 256 characters');
  const list = text(values, 'controllers');
  if (!list) throw new UsageError('--controllers is required');
  const controllers = list.split(',').map((entry) => controllerUrl(entry.trim()));
  refuseSecretInArgv('secret', values.secret, '--secret-file FILE or MESHDESK_ROUTER_SECRET');
  const secret =
    secretFromFile('secret-file', text(values, 'secret-file')) ??
    env.MESHDESK_ROUTER_SECRET ??
    env.MESHDESK_CLUSTER_SECRET;
  if (!secret) {
    throw new UsageError(
      "--secret-file (or MESHDESK_ROUTER_SECRET) is required: the routers' secret from 'meshdesk cluster router-secret'",
    );
  }
  if (secret.length < 16) throw new UsageError('the routers’ secret must be at least 16 characters');
  const ca = readCa(text(values, 'ca') ?? env.MESHDESK_CA_FILE);
  const listen = text(values, 'listen');
  return {
    name,
    controllers,
    credentials: { kind: 'secret', secret, ca },
    ...(listen ? { listen: hostPort('listen', listen) } : {}),
    faults: env.MESHDESK_FAULT_INJECTION === '1',
  };
}

/** `--identity FILE`: who the router is and which cluster it trusts come from the file alone. */
function withIdentity(
  identityFile: string,
  values: Record<string, string | boolean | undefined>,
  env: NodeJS.ProcessEnv,
): RouterArgs {
  for (const flag of ['name', 'ca', 'secret-file', 'secret'] as const) {
    if (values[flag] !== undefined) {
      throw new UsageError(`--${flag} does not go with --identity: the identity file says who the router is`);
    }
  }
  const list = text(values, 'controllers');
  const listen = text(values, 'listen');
  return {
    name: '',
    controllers: list ? list.split(',').map((entry) => controllerUrl(entry.trim())) : [],
    credentials: { identityFile },
    ...(listen ? { listen: hostPort('listen', listen) } : {}),
    faults: env.MESHDESK_FAULT_INJECTION === '1',
  };
}

function readCa(file: string | undefined): string {
  if (!file)
    throw new UsageError(
      "--ca FILE (or MESHDESK_CA_FILE) is required: the cluster CA from 'meshdesk cluster ca'",
    );
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`--ca: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  if (!text.includes('-----BEGIN CERTIFICATE-----'))
    throw new UsageError(`--ca: ${file} holds no PEM certificate`);
  return text;
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
  const { name, shown, controllers, credentials } = await resolved(args);
  const logger = pino({ level: logLevel(env) }, pino.destination(2)).child({ router: shown });
  const agent = await RouterAgent.start({
    name,
    controllers,
    credentials,
    ...(args.listen ? { listen: args.listen } : {}),
    faults: args.faults,
    log: logger,
  });
  out(
    `meshdesk: router ${shown} ready — ${agent.address ? `links on ${agent.address}` : 'dial only'}, ${controllers.length} controller(s)${credentials.kind === 'certificate' ? ', on its certificate' : ''}`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await agent.close();
  return 0;
}

/** The router's label, how to show it, its controllers and credentials, reading its identity file. */
async function resolved(args: RouterArgs): Promise<{
  name: string;
  shown: string;
  controllers: readonly string[];
  credentials: RouterCredentials;
}> {
  if (!('identityFile' in args.credentials)) {
    return {
      name: args.name,
      shown: args.name,
      controllers: args.controllers,
      credentials: args.credentials,
    };
  }
  let identity: RouterIdentity;
  try {
    identity = await readRouterIdentity(args.credentials.identityFile);
  } catch (err) {
    throw new UsageError(`--identity: ${(err as Error).message}`);
  }
  return {
    name: identity.router.id,
    shown: `${identity.router.name} (${identity.router.id})`,
    controllers: args.controllers.length > 0 ? args.controllers : identity.controllers,
    credentials: certificateCredentials(identity),
  };
}
