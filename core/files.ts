/**
 * Where a node keeps its data by default, and the small secret files it writes there
 * (cluster secret, first admin password): written atomically, readable by the owner only.
 */
import { randomBytes } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** The user's app-data folder for meshdesk, as each desktop platform names it. */
export function defaultDataDir(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
): string {
  if (platform === 'win32') return join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), 'meshdesk');
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'meshdesk');
  return join(env.XDG_DATA_HOME ?? join(homedir(), '.local', 'share'), 'meshdesk');
}

export async function writeSecretFile(path: string, content: string): Promise<void> {
  await writeFile(`${path}.tmp`, `${content}\n`, { mode: 0o600 });
  await rename(`${path}.tmp`, path);
}

/** The file's content without its trailing newline, or undefined when there is no such file. */
export async function readSecretFile(path: string): Promise<string | undefined> {
  try {
    return (await readFile(path, 'utf8')).trimEnd();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** A random secret of `bytes` bytes, as base64url (no padding, safe in URLs and shells). */
export function randomSecret(bytes = 24): string {
  return randomBytes(bytes).toString('base64url');
}
