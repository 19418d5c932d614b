/**
 * Where a node keeps its data by default, and the small files it writes there (cluster secret,
 * first admin password, its TLS credentials): written atomically and durably, secrets readable by
 * the owner only.
 */
import { randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, open, readdir, readFile, rename } from 'node:fs/promises';
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

/**
 * Makes `dir` exist and be its owner's alone, with everything under it (not following links):
 * group and other permissions are taken away, which also fixes data directories of earlier
 * versions (0644 log segments and certificates). A no-op where the platform has no such bits.
 */
export async function makePrivateTree(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const visit = async (path: string): Promise<void> => {
    const info = await lstat(path);
    if (info.isSymbolicLink()) return;
    if ((info.mode & 0o077) !== 0) await chmod(path, info.mode & 0o700);
    if (!info.isDirectory()) return;
    for (const entry of await readdir(path)) await visit(join(path, entry));
  };
  await visit(dir);
}

export async function writeSecretFile(path: string, content: string): Promise<void> {
  await writeDurably(path, `${content}\n`, 0o600);
}

/** The file's content without its trailing newline, or undefined when there is no such file. */
export async function readSecretFile(path: string): Promise<string | undefined> {
  return (await readOptional(path))?.trimEnd();
}

/**
 * `content` at `path` with `mode`: written to a temporary name, fsynced and renamed, and the
 * directory fsynced, so that a crash leaves the old file or the new one, never a part.
 */
export async function writeDurably(path: string, content: string, mode: number): Promise<void> {
  const temporary = `${path}.tmp`;
  const file = await open(temporary, 'w', mode);
  try {
    await file.writeFile(content);
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(temporary, path);
  const dir = await open(join(path, '..'), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

/** The file's content, or undefined when there is no such file. */
export async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** A random secret of `bytes` bytes, as base64url (no padding, safe in URLs and shells). */
export function randomSecret(bytes = 24): string {
  return randomBytes(bytes).toString('base64url');
}
