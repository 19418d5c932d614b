/**
 * Storage append throughput, ready for `npm run bench` (not wired here): batches per second of the
 * Raft storage's append path (`save` with entries and an advancing commit, mustSync, one
 * fdatasync each) against a bare loop of one write plus one fdatasync per batch on one file, on
 * the same disk. The target is our path at 80% or more of the bare loop's batches per second.
 *
 * Both grow their file (no preallocation) and use the same async FileHandle calls, so the
 * difference is what the storage adds: framing, checksums, the offset table and the commit mark.
 */
import { mkdir, open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

import type { Entry } from '../../core/raft/types.js';
import { openRaftStorage } from '../../core/storage/index.js';
import { COMMIT_RECORD_BYTES, entryRecordBytes } from '../../core/storage/wal-record.js';

export interface AppendFigures {
  readonly batchesPerSec: number;
  readonly entriesPerSec: number;
  /** fsync/fdatasync calls made during the timed loop. */
  readonly fsyncs: number;
}

export interface AppendParams {
  /** A data directory for the storage (created if missing; appended to if it holds a log). */
  readonly dir: string;
  readonly batches: number;
  readonly entriesPerBatch: number;
  readonly entryBytes: number;
}

export interface BareFsyncParams {
  /** Where the scratch file goes (created if missing; the file is removed afterwards). */
  readonly dir: string;
  readonly batches: number;
  /** For a like-for-like comparison, {@link appendBatchBytes} of the append run. */
  readonly bytesPerBatch: number;
}

/** Bytes one batch of the append path puts on disk: entries with their framing, and a commit mark. */
export function appendBatchBytes(entriesPerBatch: number, entryBytes: number): number {
  const entry: Entry = { term: 1, index: 1, type: 'normal', data: new Uint8Array(entryBytes) };
  return entriesPerBatch * entryRecordBytes(entry) + COMMIT_RECORD_BYTES;
}

function payload(bytes: number): Uint8Array {
  const data = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) data[i] = (i * 131 + 7) & 0xff;
  return data;
}

/** Batches of `entriesPerBatch` entries through `RaftStorage.save`, one fdatasync each. */
export async function measureAppend(params: AppendParams): Promise<AppendFigures> {
  const { dir, batches, entriesPerBatch, entryBytes } = params;
  const storage = await openRaftStorage({ dir });
  try {
    const data = payload(entryBytes);
    const term = (storage.recovered.hardState?.term ?? 0) + 1;
    let next = storage.stats().lastIndex + 1;
    const batch = (): Entry[] => {
      const entries: Entry[] = [];
      for (let i = 0; i < entriesPerBatch; i++) entries.push({ term, index: next + i, type: 'normal', data });
      next += entriesPerBatch;
      return entries;
    };
    // Untimed: the term change rewrites the hard-state file once.
    await storage.save({ entries: batch(), hardState: { term, vote: '', commit: 0 }, mustSync: true });
    // Entries are the Raft core's to make: built before the clock starts.
    const ready = Array.from({ length: batches }, () => {
      const commit = next - 1;
      return { entries: batch(), hardState: { term, vote: '', commit }, mustSync: true };
    });
    const fsyncsBefore = storage.stats().fsyncs;
    const started = performance.now();
    for (const rd of ready) await storage.save(rd);
    const seconds = (performance.now() - started) / 1000;
    const fsyncs = storage.stats().fsyncs - fsyncsBefore;
    return { batchesPerSec: batches / seconds, entriesPerSec: (batches * entriesPerBatch) / seconds, fsyncs };
  } finally {
    await storage.close();
  }
}

/** The floor: `write` + `fdatasync` of `bytesPerBatch` bytes per batch, appended to one file. */
export async function measureBareFsync(params: BareFsyncParams): Promise<AppendFigures> {
  const { dir, batches, bytesPerBatch } = params;
  await mkdir(dir, { recursive: true });
  const path = join(dir, `bare-fsync-${process.pid}.bin`);
  const fh = await open(path, 'w');
  try {
    const data = payload(bytesPerBatch);
    let position = 0;
    const started = performance.now();
    for (let b = 0; b < batches; b++) {
      let done = 0;
      while (done < data.length) {
        done += (await fh.write(data, done, data.length - done, position + done)).bytesWritten;
      }
      position += data.length;
      await fh.datasync();
    }
    const seconds = (performance.now() - started) / 1000;
    // One write per batch counts as one entry.
    return { batchesPerSec: batches / seconds, entriesPerSec: batches / seconds, fsyncs: batches };
  } finally {
    await fh.close();
    await unlink(path);
  }
}
