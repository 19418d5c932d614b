/**
 * Backups of the model: a consistent SQLite database file (the model's own format, readable with
 * any SQLite tool), taken from a running node through the API or from a stopped node's data
 * directory; and the checks a file must pass before `meshdesk restore` seeds a new cluster from it.
 */
import { randomBytes } from 'node:crypto';
import { statSync, type Stats } from 'node:fs';
import { link, open, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { ModelDatabase } from './model/database.js';
import { migrations } from './model/migrations/index.js';
import { ModelStateMachine } from './model/state-machine.js';
import { openRaftStorage } from './storage/index.js';

/**
 * The model of a stopped node, rebuilt from its data directory: the newest snapshot plus every
 * committed entry after it (what the node would have applied on its next start).
 */
export async function backupFromDataDir(dataDir: string): Promise<{ bytes: Uint8Array; index: number }> {
  const storage = await openRaftStorage({ dir: dataDir });
  try {
    const { snapshot, entries = [], hardState } = storage.recovered;
    const model = await ModelStateMachine.create();
    let index = 0;
    if (snapshot && snapshot.meta.index > 0) {
      model.restore(snapshot.data);
      index = snapshot.meta.index;
    }
    const commit = hardState?.commit ?? index;
    const committed = entries.filter((e) => e.index > index && e.index <= commit);
    const commands = committed.filter((e) => e.type === 'normal' && e.data.length > 0);
    if (committed.length > 0) {
      index = committed.at(-1)?.index ?? index;
      model.apply(commands, index);
    }
    return { bytes: model.snapshot(), index };
  } finally {
    await storage.close();
  }
}

/** Why a backup cannot be written to `path`, or undefined: checked before the backup is taken. */
export function backupTargetProblem(path: string, overwrite: boolean): string | undefined {
  const target = statOrUndefined(path);
  if (target?.isDirectory()) {
    return `${path} is a directory; name the file to write, e.g. ${join(path, 'meshdesk-backup.sqlite')}`;
  }
  if (target && !overwrite) return `${path} exists; pass --force to overwrite it`;
  const folder = dirname(resolve(path));
  const parent = statOrUndefined(folder);
  if (!parent) return `the folder ${folder} does not exist`;
  if (!parent.isDirectory()) return `${folder} is not a folder`;
  return undefined;
}

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/**
 * Writes a backup readable by the owner only (it holds password hashes and the CA's key), whole
 * or not at all: into a private temporary file beside the target, synced, then moved into place —
 * without `overwrite`, only if nothing is there by then. Whatever fails, no temporary file stays.
 */
export async function writeBackup(path: string, bytes: Uint8Array, overwrite = false): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const file = await open(temporary, 'wx', 0o600);
    try {
      await file.writeFile(bytes);
      await file.sync();
    } finally {
      await file.close();
    }
    if (overwrite) await rename(temporary, path);
    else await link(temporary, path); // EEXIST if a file appeared meanwhile: never clobbered
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(
      code === 'EEXIST'
        ? `${path} exists; pass --force to overwrite it`
        : `cannot write the backup to ${path}: ${code ?? (err as Error).message}`,
    );
  } finally {
    await rm(temporary, { force: true });
  }
}

/**
 * A backup file checked and made ready to seed a new cluster: it must be a model database that
 * passes SQLite's integrity check and is not newer than this version understands; it is migrated
 * to the current schema and its applied index reset to the new cluster's first index.
 */
export async function seedFromBackup(path: string, firstIndex: number): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new Error(`cannot read backup ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const newest = migrations.at(-1)?.version ?? 0;
  let db: ModelDatabase;
  try {
    db = await ModelDatabase.open(bytes, []);
  } catch (err) {
    throw new Error(`${path} is not a meshdesk backup (not a SQLite database: ${(err as Error).message})`);
  }
  try {
    const integrity = String(db.value('PRAGMA integrity_check') ?? '');
    if (integrity !== 'ok') throw new Error(`${path} is damaged: ${integrity}`);
    if (
      db.schemaVersion === 0 ||
      db.value("SELECT 1 FROM sqlite_master WHERE name = 'identities'") === undefined
    ) {
      throw new Error(`${path} is not a meshdesk backup (no model schema)`);
    }
    if (db.schemaVersion > newest) {
      throw new Error(
        `${path} comes from a newer meshdesk (schema ${db.schemaVersion}, this one knows ${newest})`,
      );
    }
  } finally {
    db.close();
  }
  const migrated = await ModelDatabase.open(bytes);
  try {
    migrated.setAppliedIndex(firstIndex);
    return migrated.export();
  } finally {
    migrated.close();
  }
}
