/**
 * Snapshots in `<dir>/raft/snapshots/`, one file each named by its index, written atomically (temp
 * file, fdatasync, rename, directory fsync). The newest two are kept so that a damaged newest one
 * can fall back to the one before (the log still holds the entries after it until compaction
 * passes the newest).
 *
 *   header  "MDSNAP01" | u32 meta length | u32 CRC32C(meta) | u64 data length | u32 CRC32C(data)
 *           | u32 CRC32C(the 28 header bytes before)
 *   meta    JSON {index, term, conf}: small and structured; the binary framing guards it
 *   data    the state machine's bytes, opaque here
 */
import { mkdir, readdir, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';

import { crc32c } from '@node-rs/crc32';

import type { ConfState, Snapshot, SnapshotMeta } from '../raft/types.js';
import { isIndex, readU64, unlinkIfExists, writeFileAtomic, writeU64, type IoCounters } from './disk.js';
import { StorageCorruptionError, type SnapshotStep } from './types.js';

const MAGIC = Buffer.from('MDSNAP01', 'latin1');
const HEADER_BYTES = 32;
const KEEP = 2;
const SNAPSHOT_NAME = /^(\d{20})\.snap$/;

export function snapshotName(index: number): string {
  return `${String(index).padStart(20, '0')}.snap`;
}

export function encodeSnapshotHeader(snapshot: Snapshot): Buffer {
  const { index, term, conf } = snapshot.meta;
  const metaJson = {
    index,
    term,
    conf: {
      voters: conf.voters,
      learners: conf.learners,
      ...(conf.context ? { context: conf.context } : {}),
    },
  };
  const meta = Buffer.from(JSON.stringify(metaJson), 'utf8');
  const buf = Buffer.alloc(HEADER_BYTES + meta.length);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  buf.set(MAGIC, 0);
  view.setUint32(8, meta.length, true);
  view.setUint32(12, crc32c(meta), true);
  writeU64(view, 16, snapshot.data.length);
  view.setUint32(24, crc32c(snapshot.data), true);
  view.setUint32(28, crc32c(buf.subarray(0, 28)), true);
  buf.set(meta, HEADER_BYTES);
  return buf;
}

class Damaged extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

function parseMeta(bytes: Buffer): SnapshotMeta {
  const raw: unknown = JSON.parse(bytes.toString('utf8'));
  if (typeof raw !== 'object' || raw === null) throw new Damaged('metadata is not an object', HEADER_BYTES);
  const { index, term, conf } = raw as Record<string, unknown>;
  const c = (typeof conf === 'object' && conf !== null ? conf : {}) as Record<string, unknown>;
  const context = c['context'];
  const contextOk =
    context === undefined ||
    (typeof context === 'object' &&
      context !== null &&
      Object.values(context).every((v) => typeof v === 'string'));
  if (
    !isIndex(index) ||
    !isIndex(term) ||
    !isStringArray(c['voters']) ||
    !isStringArray(c['learners']) ||
    !contextOk
  ) {
    throw new Damaged('metadata has the wrong shape', HEADER_BYTES);
  }
  const confState: ConfState = {
    voters: c['voters'],
    learners: c['learners'],
    ...(context === undefined ? {} : { context: context as Record<string, string> }),
  };
  return { index, term, conf: confState };
}

export function decodeSnapshot(buf: Buffer): Snapshot {
  if (buf.length < HEADER_BYTES) throw new Damaged(`only ${buf.length} bytes`, buf.length);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (crc32c(buf.subarray(0, 28)) !== view.getUint32(28, true))
    throw new Damaged('header checksum mismatch', 0);
  if (!buf.subarray(0, 8).equals(MAGIC)) throw new Damaged('not a snapshot file', 0);
  const metaLength = view.getUint32(8, true);
  const dataLength = readU64(view, 16);
  const dataStart = HEADER_BYTES + metaLength;
  if (dataLength === undefined || dataStart + dataLength !== buf.length) {
    throw new Damaged(
      `file is ${buf.length} bytes, the header says ${dataStart + (dataLength ?? 0)}`,
      buf.length,
    );
  }
  const meta = buf.subarray(HEADER_BYTES, dataStart);
  if (crc32c(meta) !== view.getUint32(12, true))
    throw new Damaged('metadata checksum mismatch', HEADER_BYTES);
  const data = buf.subarray(dataStart);
  if (crc32c(data) !== view.getUint32(24, true)) throw new Damaged('data checksum mismatch', dataStart);
  try {
    return { meta: parseMeta(meta), data };
  } catch (err) {
    if (err instanceof Damaged) throw err;
    throw new Damaged('metadata is not valid JSON', HEADER_BYTES);
  }
}

export interface OpenedSnapshotStore {
  readonly store: SnapshotStore;
  /** The newest snapshot that verified; undefined when none was ever stored. */
  readonly snapshot: Snapshot | undefined;
}

export class SnapshotStore {
  private constructor(
    private readonly dir: string,
    private readonly io: IoCounters,
    private readonly damaged: string[],
    private readonly onStep?: (step: SnapshotStep) => void,
  ) {}

  /**
   * Loads the newest snapshot that verifies, warning about each damaged one passed over; if none
   * verifies, StorageCorruptionError names the newest.
   */
  static async open(
    dir: string,
    io: IoCounters,
    warn: (message: string, details?: Record<string, unknown>) => void,
    onStep?: (step: SnapshotStep) => void,
  ): Promise<OpenedSnapshotStore> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const names = await readdir(dir);
    for (const name of names) if (name.endsWith('.tmp')) await unlinkIfExists(join(dir, name));
    const candidates = names
      .filter((n) => SNAPSHOT_NAME.test(n))
      .sort()
      .reverse();
    const damaged: { path: string; error: Damaged }[] = [];
    let snapshot: Snapshot | undefined;
    for (const name of candidates) {
      const path = join(dir, name);
      try {
        const loaded = decodeSnapshot(await readFile(path));
        if (loaded.meta.index !== Number(name.slice(0, 20))) {
          throw new Damaged(`holds index ${loaded.meta.index}, not the one its name gives`, HEADER_BYTES);
        }
        snapshot = loaded;
        break;
      } catch (err) {
        if (!(err instanceof Damaged)) throw err;
        damaged.push({ path, error: err });
      }
    }
    const newest = damaged[0];
    if (!snapshot && newest) {
      throw new StorageCorruptionError(
        `snapshot ${newest.path} is damaged (${newest.error.message} at byte ${newest.error.offset}) and no older snapshot verifies`,
        newest.path,
        newest.error.offset,
      );
    }
    for (const { path, error } of damaged) {
      warn(`snapshot ${path} is damaged (${error.message} at byte ${error.offset}); using an older one`, {
        file: path,
        offset: error.offset,
      });
    }
    const store = new SnapshotStore(
      dir,
      io,
      damaged.map((d) => d.path),
      onStep,
    );
    return { store, snapshot };
  }

  /**
   * Renames the damaged snapshots found on open to `*.damaged`: kept for a post-mortem, out of
   * retention's way. Called once the storage has opened, so that a failed open changes nothing.
   */
  async setAsideDamaged(): Promise<void> {
    for (const path of this.damaged.splice(0)) await rename(path, `${path}.damaged`);
  }

  /** Writes `snapshot` atomically, then keeps only the newest two. */
  async save(snapshot: Snapshot): Promise<void> {
    const path = join(this.dir, snapshotName(snapshot.meta.index));
    const header = encodeSnapshotHeader(snapshot);
    const onStep = this.onStep;
    if (onStep) {
      // Test-only: the data in two halves, so a hook can stop the write between them.
      const half = Math.floor(snapshot.data.length / 2);
      const parts = [header, snapshot.data.subarray(0, half), snapshot.data.subarray(half)];
      await writeFileAtomic(path, parts, this.io, (written) => {
        if (written === 2) onStep('partly-written');
      });
      onStep('saved');
    } else {
      await writeFileAtomic(path, [header, snapshot.data], this.io);
    }
    const stored = (await readdir(this.dir))
      .filter((n) => SNAPSHOT_NAME.test(n))
      .sort()
      .reverse();
    // Losing these unlinks in a crash is harmless: the next save removes them again.
    for (const name of stored.slice(KEEP)) await unlinkIfExists(join(this.dir, name));
  }
}
