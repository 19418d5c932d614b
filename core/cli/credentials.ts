/**
 * The credentials of every CLI command that logs in: a username, and a password or a bearer token
 * read from a file or the environment. Never from argv, which every local user can read (ps):
 * `--password` and `--token` are refused with a line saying what to pass instead.
 */
import { readFileSync } from 'node:fs';
import type { Credentials } from './api-client.js';
import { text, UsageError } from './args.js';

/** The credential options of every command that logs in. Secrets come from files or the environment. */
export const CREDENTIAL_OPTIONS = {
  user: { type: 'string' },
  'password-file': { type: 'string' },
  'token-file': { type: 'string' },
  // Refused with a reason (argv is visible to every local user), not as unknown options.
  password: { type: 'string' },
  token: { type: 'string' },
} as const;

export const CREDENTIAL_USAGE = `  --user U             admin username (default admin)
  --password-file F    a file holding the admin password (or MESHDESK_ADMIN_PASSWORD)
  --token-file F       a file holding a bearer token instead (or MESHDESK_TOKEN)`;

/** The first line of a secret file, or a UsageError saying why it cannot be read. */
export function secretFromFile(option: string, path: string | undefined): string | undefined {
  if (path === undefined) return undefined;
  let content: string;
  try {
    content = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`--${option} ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const secret = content.split(/\r?\n/)[0]?.trim() ?? '';
  if (secret === '') throw new UsageError(`--${option} ${path}: the file is empty`);
  return secret;
}

/** Refuses a secret given on the command line, saying what to pass instead. */
export function refuseSecretInArgv(option: string, given: unknown, instead: string): void {
  if (given !== undefined) {
    throw new UsageError(`--${option} would show the secret to every local user (ps); pass ${instead}`);
  }
}

export async function credentials(
  values: Record<string, string | boolean | undefined>,
  env: NodeJS.ProcessEnv,
): Promise<Credentials> {
  refuseSecretInArgv('password', values.password, '--password-file FILE or MESHDESK_ADMIN_PASSWORD');
  refuseSecretInArgv('token', values.token, '--token-file FILE or MESHDESK_TOKEN');
  const token = secretFromFile('token-file', text(values, 'token-file')) ?? env.MESHDESK_TOKEN;
  const password =
    secretFromFile('password-file', text(values, 'password-file')) ?? env.MESHDESK_ADMIN_PASSWORD;
  return {
    ...(token ? { token } : {}),
    username: text(values, 'user') ?? 'admin',
    ...(password ? { password } : {}),
  };
}
