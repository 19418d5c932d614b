/**
 * The Raft log on disk: append-only segment files in `<dir>/raft/wal/`, each named by the index of
 * the first entry it holds (20 digits, so names sort as numbers). A batch is encoded into one
 * buffer, written with one write and made durable with one fdatasync. An in-memory table of record
 * offsets lets a conflicting suffix be cut (§5.3: entries at or after i are replaced) without a
 * scan.
 *
 * Crash rules the layout keeps: segments are removed newest-first when a suffix is cut and
 * oldest-first when compacting, so a crash mid-way leaves a contiguous run; a segment is created
 * only after the previous one is synced; a cut is synced before new records go where the old ones
 * were, so old and new bytes never interleave. Recovery can then tell a torn tail (cut, with a
 * warning) from damage to synced records (StorageCorruptionError, naming file and byte offset).
 */
import { mkdir, open, readdir, readFile, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

import type { Entry } from '../raft/types.js';
import { datasync, syncDir, writeAll, type IoCounters } from './disk.js';
import { StorageCorruptionError } from './types.js';
import {
  COMMIT_RECORD_BYTES,
  encodeCommit,
  encodeEntry,
  entryRecordBytes,
  findValidRecord,
  readRecord,
  viewOf,
} from './wal-record.js';

const SEGMENT_NAME = /^(\d{20})\.wal$/;
/** Batches up to this size are encoded into one reused buffer (no allocation, no GC per batch). */
const REUSED_BUFFER_BYTES = 1 << 20;

export function segmentName(firstIndex: number): string {
  return `${String(firstIndex).padStart(20, '0')}.wal`;
}

interface Segment {
  /** The index of its first entry (its name), also when it holds none yet. */
  readonly first: number;
  readonly path: string;
  size: number;
  /** offsets[k]: byte offset of the record of entry `first + k`. */
  readonly offsets: number[];
}

export interface WalOptions {
  readonly dir: string;
  readonly segmentBytes: number;
  readonly io: IoCounters;
  readonly warn: (message: string, details?: Record<string, unknown>) => void;
}

export interface RecoveredWal {
  readonly wal: Wal;
  /** Every entry held, contiguous, oldest first. */
  readonly entries: Entry[];
  /** The highest commit mark found (0 when none). */
  readonly commit: number;
}

export class Wal {
  private handle: FileHandle | undefined;
  /** The last segment holds writes not yet fdatasynced. */
  private dirty = false;
  private failure: unknown;
  private closed = false;
  private scratch: Buffer | undefined;

  private constructor(
    private readonly options: WalOptions,
    private segments: Segment[],
  ) {}

  /** Reads and verifies every record of every segment. */
  static async open(options: WalOptions): Promise<RecoveredWal> {
    await mkdir(options.dir, { recursive: true, mode: 0o700 });
    const names = (await readdir(options.dir)).filter((n) => SEGMENT_NAME.test(n)).sort();
    const segments: Segment[] = [];
    const entries: Entry[] = [];
    let commit = 0;
    let next: number | undefined;
    for (const [k, name] of names.entries()) {
      const path = join(options.dir, name);
      const first = Number(name.slice(0, 20));
      if (next !== undefined && first !== next) {
        throw new StorageCorruptionError(
          `log segment ${path} (byte 0) starts at index ${first} but the segment before it ends at ${next - 1}`,
          path,
          0,
        );
      }
      const buf = await readFile(path);
      const segment: Segment = { first, path, size: buf.length, offsets: [] };
      let index = first;
      let offset = 0;
      while (offset < buf.length) {
        const read = readRecord(buf, offset);
        if (!read.ok) {
          const where = `record at byte ${offset} of log segment ${path}`;
          if (k !== names.length - 1) {
            throw new StorageCorruptionError(
              `${where}: ${read.reason}, in a segment that is not the newest`,
              path,
              offset,
            );
          }
          const later = findValidRecord(buf, offset + 1);
          if (later >= 0) {
            throw new StorageCorruptionError(
              `${where}: ${read.reason}, followed by a valid record at byte ${later}`,
              path,
              offset,
            );
          }
          options.warn(`cutting a torn record at the end of the log: ${where}: ${read.reason}`, {
            file: path,
            offset,
            bytesCut: buf.length - offset,
          });
          await cutFile(path, offset, options.io);
          segment.size = offset;
          break;
        }
        const { record } = read;
        if (record.kind === 'commit') {
          commit = Math.max(commit, record.commit);
        } else {
          const { entry } = record;
          if (entry.index !== index) {
            throw new StorageCorruptionError(
              `record at byte ${offset} of log segment ${path} holds index ${entry.index} where ${index} was expected`,
              path,
              offset,
            );
          }
          segment.offsets.push(offset);
          entries.push(entry);
          index++;
        }
        offset = read.end;
      }
      next = index;
      segments.push(segment);
    }
    const wal = new Wal(options, segments);
    const last = segments.at(-1);
    if (last) wal.handle = await open(last.path, 'r+');
    return { wal, entries, commit };
  }

  /** First entry index held; with no entry held, the index the next entry must have (if known). */
  get firstIndex(): number | undefined {
    return this.segments[0]?.first;
  }

  /** The last entry index held (firstIndex - 1 when none is held). */
  get lastIndex(): number | undefined {
    const last = this.segments.at(-1);
    return last && last.first + last.offsets.length - 1;
  }

  get segmentCount(): number {
    return this.segments.length;
  }

  get firstSegmentPath(): string | undefined {
    return this.segments[0]?.path;
  }

  /**
   * Appends `entries` (replacing any held at or after entries[0].index) and, after them, a commit
   * mark; fdatasyncs once when `sync`. An empty log takes any first index.
   */
  async write(entries: readonly Entry[], commit: number | undefined, sync: boolean): Promise<void> {
    this.usable();
    const first = entries[0]?.index;
    const next = this.lastIndex === undefined ? undefined : this.lastIndex + 1;
    if (first !== undefined && next !== undefined && first > next) {
      throw new Error(`entries start at ${first}, leaving a gap after the log's last index ${next - 1}`);
    }
    try {
      const current = this.segments.at(-1);
      const full = current !== undefined && current.size >= this.options.segmentBytes;
      if (first !== undefined && (first !== next || full)) await this.prepareFor(first);
      const last = this.segments.at(-1);
      if (!last || !this.handle) {
        if (commit !== undefined) throw new Error('a commit mark needs a log segment to go in');
        return;
      }
      let bytes = commit === undefined ? 0 : COMMIT_RECORD_BYTES;
      for (const entry of entries) bytes += entryRecordBytes(entry);
      const buf = this.batchBuffer(bytes);
      const view = viewOf(buf);
      const offsets: number[] = [];
      let at = 0;
      for (const entry of entries) {
        offsets.push(last.size + at);
        at = encodeEntry(buf, view, at, entry);
      }
      if (commit !== undefined) encodeCommit(buf, view, at, commit);
      if (bytes > 0) {
        await writeAll(this.handle, buf, last.size, this.options.io);
        last.size += bytes;
        for (const offset of offsets) last.offsets.push(offset);
        this.dirty = true;
      }
      if (sync) await this.syncLast();
    } catch (err) {
      // After a failed write or fsync the file's state is unknown (and a retried fsync can lie):
      // refuse further writes; a restart recovers from what reached the disk.
      this.failure ??= err;
      throw err;
    }
  }

  /** fdatasyncs the last segment if anything was written since its last sync. */
  async sync(): Promise<void> {
    this.usable();
    try {
      await this.syncLast();
    } catch (err) {
      this.failure ??= err;
      throw err;
    }
  }

  /** Removes every segment: the log restarts at whatever index is appended next. */
  async reset(): Promise<void> {
    this.usable();
    try {
      await this.closeHandle();
      await this.removeNewest(this.segments.length);
    } catch (err) {
      this.failure ??= err;
      throw err;
    }
  }

  /** Removes whole segments holding only entries below `index`; never the last segment. */
  async dropBelow(index: number): Promise<number> {
    this.usable();
    let removed = 0;
    while (this.segments.length > 1 && (this.segments[1] as Segment).first <= index) {
      await unlink((this.segments[0] as Segment).path);
      this.segments.shift();
      removed++;
    }
    if (removed > 0) await syncDir(this.options.dir, this.options.io);
    return removed;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      if (this.failure === undefined) await this.syncLast();
    } finally {
      await this.closeHandle();
    }
  }

  /** A buffer of exactly `bytes`, reused while batches are small; writes never overlap. */
  private batchBuffer(bytes: number): Buffer {
    if (bytes > REUSED_BUFFER_BYTES) return Buffer.allocUnsafe(bytes);
    if (!this.scratch || this.scratch.length < bytes) {
      const grown = Math.max(bytes, 2 * (this.scratch?.length ?? 0), 64 * 1024);
      this.scratch = Buffer.allocUnsafe(Math.min(grown, REUSED_BUFFER_BYTES));
    }
    return this.scratch.subarray(0, bytes);
  }

  private usable(): void {
    if (this.closed) throw new Error('the write-ahead log is closed');
    if (this.failure !== undefined) {
      throw new Error('the write-ahead log failed earlier and takes no more writes', { cause: this.failure });
    }
  }

  /** Cuts what `first` replaces, and opens a new segment when the last one is full. */
  private async prepareFor(first: number): Promise<void> {
    const next = this.lastIndex === undefined ? undefined : this.lastIndex + 1;
    if (next !== undefined && first < next) await this.cutFrom(first);
    const last = this.segments.at(-1);
    if (!last || (last.size >= this.options.segmentBytes && last.offsets.length > 0)) {
      await this.startSegment(first);
    }
  }

  /** Removes entries at or after `index` (which is held). */
  private async cutFrom(index: number): Promise<void> {
    let k = this.segments.length - 1;
    while (k >= 0 && (this.segments[k] as Segment).first > index) k--;
    if (k < 0 || index === (this.segments[0] as Segment).first) {
      await this.closeHandle();
      await this.removeNewest(this.segments.length);
      return;
    }
    if (k < this.segments.length - 1) {
      await this.closeHandle();
      await this.removeNewest(this.segments.length - 1 - k);
    }
    const segment = this.segments[k] as Segment;
    const offset = segment.offsets[index - segment.first] as number;
    this.handle ??= await open(segment.path, 'r+');
    await this.handle.truncate(offset);
    segment.size = offset;
    segment.offsets.length = index - segment.first;
    // Synced before new records land where the old ones were (see the file comment).
    this.dirty = true;
    await this.syncLast();
  }

  /** Removes the newest `count` segments, newest first, then syncs the directory. */
  private async removeNewest(count: number): Promise<void> {
    if (count === 0) return;
    for (let i = 0; i < count; i++) {
      await unlink((this.segments.at(-1) as Segment).path);
      this.segments.pop();
    }
    this.dirty = false;
    await syncDir(this.options.dir, this.options.io);
  }

  private async startSegment(first: number): Promise<void> {
    await this.syncLast();
    await this.closeHandle();
    const path = join(this.options.dir, segmentName(first));
    this.handle = await open(path, 'wx', 0o600);
    this.segments.push({ first, path, size: 0, offsets: [] });
    await syncDir(this.options.dir, this.options.io);
  }

  private async syncLast(): Promise<void> {
    if (!this.dirty || !this.handle) return;
    await datasync(this.handle, this.options.io);
    this.options.io.walSyncs++;
    this.dirty = false;
  }

  private async closeHandle(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close();
  }
}

/** Truncates a torn tail away, durably. */
async function cutFile(path: string, size: number, io: IoCounters): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    await fh.truncate(size);
    await datasync(fh, io);
  } finally {
    await fh.close();
  }
}
