/**
 * Backups of the model: a consistent SQLite database file (the model's own format, readable with
 * any SQLite tool), taken from a running node through the API or from a stopped node's data
 * directory; and the checks a file must pass before `meshdesk restore` seeds a new cluster from it.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
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

/** Writes a backup atomically, readable by the owner only (it holds password hashes and keys). */
export async function writeBackup(path: string, bytes: Uint8Array): Promise<void> {
  await writeFile(`${path}.tmp`, bytes, { mode: 0o600 });
  await rename(`${path}.tmp`, path);
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
