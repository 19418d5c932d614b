/**
 * The few file-system moves every durable file here is built from, and a count of the syncs they
 * cost so that tests and benchmarks can see what a batch paid.
 */
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Counters shared by every file of one storage. */
export class IoCounters {
  /** Every fsync/fdatasync, of files and of directories. */
  fsyncs = 0;
  walSyncs = 0;
  dirSyncs = 0;
  bytesWritten = 0;
}

/** The errno code of a Node file-system error, if it is one. */
export function errnoCode(err: unknown): string | undefined {
  if (err instanceof Error && 'code' in err && typeof err.code === 'string') return err.code;
  return undefined;
}

/** Ignores "no such file": used where a file may already be gone (cleanup, retention). */
export async function unlinkIfExists(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
  }
}

/** Writes all of `data` at `position` (a regular file may take a write in pieces). */
export async function writeAll(
  fh: FileHandle,
  data: Uint8Array,
  position: number,
  io: IoCounters,
): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await fh.write(data, done, data.length - done, position + done);
    done += bytesWritten;
  }
  io.bytesWritten += data.length;
}

/** fdatasync: the data and the metadata needed to read it back (size), not timestamps. */
export async function datasync(fh: FileHandle, io: IoCounters): Promise<void> {
  await fh.datasync();
  io.fsyncs++;
}

/**
 * Makes a directory's entries (a file created, renamed in or removed) durable. Windows cannot open
 * a directory, and NTFS journals those operations itself.
 */
export async function syncDir(dir: string, io: IoCounters): Promise<void> {
  if (process.platform === 'win32') return;
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
  io.fsyncs++;
  io.dirSyncs++;
}

/**
 * Replaces `path` with `parts` so that a crash leaves the old file or the new one, never a mix:
 * temp file, fdatasync, rename over, directory fsync. A leftover `<path>.tmp` means a write that
 * never happened; readers ignore it. `afterPart(n)` runs once n parts are written (a test hook).
 */
export async function writeFileAtomic(
  path: string,
  parts: readonly Uint8Array[],
  io: IoCounters,
  afterPart?: (written: number) => void,
): Promise<void> {
  const tmp = `${path}.tmp`;
  const fh = await open(tmp, 'w', 0o600);
  try {
    let position = 0;
    for (const [i, part] of parts.entries()) {
      await writeAll(fh, part, position, io);
      position += part.length;
      afterPart?.(i + 1);
    }
    await datasync(fh, io);
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  await syncDir(dirname(path), io);
}

/** Unsigned 64-bit little-endian, for the whole safe-integer range (terms, indexes, sizes). */
export function writeU64(view: DataView, offset: number, value: number): void {
  view.setUint32(offset, value >>> 0, true);
  view.setUint32(offset + 4, Math.floor(value / 0x1_0000_0000), true);
}

/** Reads what {@link writeU64} wrote; undefined beyond Number.MAX_SAFE_INTEGER. */
export function readU64(view: DataView, offset: number): number | undefined {
  const high = view.getUint32(offset + 4, true);
  if (high > 0x1f_ffff) return undefined;
  return high * 0x1_0000_0000 + view.getUint32(offset, true);
}

export function isIndex(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
