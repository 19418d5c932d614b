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

/** Files and directories of a data directory: the owner's alone (it holds keys and the model). */
export const PRIVATE_FILE_MODE = 0o600;
export const PRIVATE_DIR_MODE = 0o700;

/** Makes `dir` (and any missing parent) exist, readable by its owner only; an existing one is tightened. */
export async function ensurePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  await chmod(dir, PRIVATE_DIR_MODE);
}

/**
 * Takes group and other permissions away from everything under `root` (not following links):
 * data directories of earlier versions have 0644 log segments and certificates. Returns how many
 * entries it changed. A no-op where the platform has no such bits (Windows).
 */
export async function tightenTree(root: string): Promise<number> {
  let changed = 0;
  const visit = async (path: string): Promise<void> => {
    const info = await lstat(path);
    if (info.isSymbolicLink()) return;
    if ((info.mode & 0o077) !== 0) {
      await chmod(path, info.mode & 0o700);
      changed += 1;
    }
    if (!info.isDirectory()) return;
    for (const entry of await readdir(path)) await visit(join(path, entry));
  };
  await visit(root);
  return changed;
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
