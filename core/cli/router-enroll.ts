/**
 * `meshdesk router invite ROUTER` (an admin mints a router's one-time enrollment token) and
 * `meshdesk router enroll TOKEN --out router.json` (the router's machine spends it for a key and
 * certificate of its own: core/router/enrollment.ts).
 */
import { existsSync } from 'node:fs';
import { CliClient } from './api-client.js';
import { apiTarget, TRUST_OPTIONS, TRUST_USAGE } from './api-target.js';
import { parse, text, UsageError } from './args.js';
import { minutes } from './cluster.js';
import { credentials, CREDENTIAL_OPTIONS, CREDENTIAL_USAGE, secretFromFile } from './credentials.js';
import { parseJoinToken } from '../cluster/join-token.js';
import { enrollRouter } from '../router/enrollment.js';
import { writeRouterIdentity } from '../router/identity.js';

export const ROUTER_INVITE_USAGE = `usage: meshdesk router invite ROUTER [--expires 1h] [options]

Mints a one-time enrollment token for the router ROUTER (its name or id), printed once on stdout.
On the router's machine, 'meshdesk router enroll' spends it for the router's own certificate.

options:
  --expires D      how long the token works: 30m, 12h, 2d… (default 1h, at most 7d)
  --api URL        a member's API (default http://127.0.0.1:8440; https:// beyond loopback)
${TRUST_USAGE}
${CREDENTIAL_USAGE}
  --json           print the API's JSON answer`;

export const ROUTER_ENROLL_USAGE = `usage: meshdesk router enroll [TOKEN] --out FILE [--force]

Spends a router's one-time enrollment token (from 'meshdesk router invite' or the router's page)
for a key made on this machine and a certificate from the cluster CA, and writes them with the
cluster CA and the controllers to connect to into FILE (owner-only). 'meshdesk router --identity
FILE' then runs the router.

options:
  TOKEN            the token; or --token-file F, or MESHDESK_ENROLL_TOKEN
  --token-file F   a file holding the token (keeps it out of the process list)
  --out FILE       where to write the router's identity (e.g. router.json)
  --force          replace FILE if it exists (the identity in it stops working once revoked)
  --timeout S      how long to keep trying to reach the controller the token names (default 30)`;

const INVITE_OPTIONS = {
  api: { type: 'string' },
  ...TRUST_OPTIONS,
  ...CREDENTIAL_OPTIONS,
  json: { type: 'boolean' },
  expires: { type: 'string' },
} as const;

const ENROLL_OPTIONS = {
  'token-file': { type: 'string' },
  out: { type: 'string' },
  force: { type: 'boolean' },
  timeout: { type: 'string' },
} as const;

interface RouterRow {
  readonly id: string;
  readonly name: string;
}

export async function routerInvite(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  out: (line: string) => void,
): Promise<number> {
  const { values, positionals, help } = parse(argv, INVITE_OPTIONS, 1);
  if (help) {
    out(ROUTER_INVITE_USAGE);
    return 0;
  }
  const [ref] = positionals;
  if (!ref) throw new UsageError('router invite needs the router’s name or id');
  const expiresInMinutes = minutes(text(values, 'expires') ?? '1h');
  const target = await apiTarget(values, env);
  const client = new CliClient(target.url, await credentials(values, env), { fetch: target.fetch });
  const router = await findRouter(client, ref);
  const { data } = await client.request<{ token: string }>(
    'POST',
    `/routers/${encodeURIComponent(router.id)}/enrollment`,
    { expiresInMinutes },
  );
  // The token alone on stdout, so that it can be piped; it is shown this once.
  out(values.json === true ? JSON.stringify(data, null, 2) : data.token);
  return 0;
}

/** The router named `ref`, else the one whose id it is; one line when there is none. */
async function findRouter(client: CliClient, ref: string): Promise<RouterRow> {
  const filter = `name = ${JSON.stringify(ref)}`;
  const { data } = await client.request<{ data: RouterRow[] }>(
    'GET',
    `/routers?filter=${encodeURIComponent(filter)}&limit=1`,
  );
  const named = data.data[0];
  if (named) return named;
  try {
    return (await client.request<RouterRow>('GET', `/routers/${encodeURIComponent(ref)}`)).data;
  } catch {
    throw new Error(`no router is named or has the id '${ref}' (see the Routers page)`);
  }
}

export async function routerEnroll(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  out: (line: string) => void,
): Promise<number> {
  const { values, positionals, help } = parse(argv, ENROLL_OPTIONS, 1);
  if (help) {
    out(ROUTER_ENROLL_USAGE);
    return 0;
  }
  const [given] = positionals;
  const fromFile = secretFromFile('token-file', text(values, 'token-file'));
  if (given && fromFile) throw new UsageError('TOKEN and --token-file exclude each other');
  const token = (given ?? fromFile ?? env.MESHDESK_ENROLL_TOKEN)?.trim();
  if (!token) {
    throw new UsageError(
      "the enrollment token is required: TOKEN, --token-file F or MESHDESK_ENROLL_TOKEN (from 'meshdesk router invite')",
    );
  }
  try {
    if (parseJoinToken(token).payload.kind !== 'router') {
      throw new Error("it is a controller's join token, for 'meshdesk start --join'");
    }
  } catch (err) {
    throw new UsageError(`not a router enrollment token: ${(err as Error).message}`);
  }
  const file = text(values, 'out');
  if (!file) throw new UsageError('--out FILE is required: where to write the router’s identity');
  if (existsSync(file) && values.force !== true) {
    throw new UsageError(`--out ${file} exists; pass --force to replace it`);
  }
  const timeoutSeconds = Number(text(values, 'timeout') ?? '30');
  if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1 || timeoutSeconds > 3600) {
    throw new UsageError('--timeout must be a whole number of seconds from 1 to 3600');
  }
  const identity = await enrollRouter(token, { timeoutMs: timeoutSeconds * 1000 });
  await writeRouterIdentity(file, identity);
  out(
    `enrolled router ${identity.router.name} (${identity.router.id}) of cluster ${identity.clusterId}: wrote ${file}; run 'meshdesk router --identity ${file}'`,
  );
  return 0;
}
