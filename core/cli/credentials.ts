/**
 * The credentials of every CLI command that logs in: a username, and a password or a bearer token
 * read from a file or the environment. Never from argv, which every local user can read (ps):
 * `--password` and `--token` are refused with a line saying what to pass instead.
 */
import { readFile } from 'node:fs/promises';
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
async function secretFromFile(option: string, path: string | undefined): Promise<string | undefined> {
  if (path === undefined) return undefined;
  let content: string;
  try {
    content = await readFile(path, 'utf8');
  } catch (err) {
    throw new UsageError(`--${option} ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const secret = content.split(/\r?\n/)[0]?.trim() ?? '';
  if (secret === '') throw new UsageError(`--${option} ${path}: the file is empty`);
  return secret;
}

export async function credentials(
  values: Record<string, string | boolean | undefined>,
  env: NodeJS.ProcessEnv,
): Promise<Credentials> {
  for (const [option, instead] of [
    ['password', '--password-file FILE or MESHDESK_ADMIN_PASSWORD'],
    ['token', '--token-file FILE or MESHDESK_TOKEN'],
  ] as const) {
    if (values[option] !== undefined) {
      throw new UsageError(`--${option} would show the secret to every local user (ps); pass ${instead}`);
    }
  }
  const token = (await secretFromFile('token-file', text(values, 'token-file'))) ?? env.MESHDESK_TOKEN;
  const password =
    (await secretFromFile('password-file', text(values, 'password-file'))) ?? env.MESHDESK_ADMIN_PASSWORD;
  return {
    ...(token ? { token } : {}),
    username: text(values, 'user') ?? 'admin',
    ...(password ? { password } : {}),
  };
}
