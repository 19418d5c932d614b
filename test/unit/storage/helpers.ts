/**
 * Shared by the storage tests: entries, a WAL opened on a real directory, and file surgery
 * (cutting, flipping, appending bytes) to play crashes and bit rot.
 */
import { readdir, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import type { Entry } from '../../../core/raft/types.js';
import { IoCounters } from '../../../core/storage/disk.js';
import { Wal, type RecoveredWal } from '../../../core/storage/wal.js';

export function ent(index: number, term: number, data = `e${index}`): Entry {
  return { index, term, type: 'normal', data: new TextEncoder().encode(data) };
}

/** Entries `from`..`to` of one term. */
export function ents(from: number, to: number, term: number, data?: (i: number) => string): Entry[] {
  const out: Entry[] = [];
  for (let i = from; i <= to; i++) out.push(ent(i, term, data ? data(i) : `e${i}`));
  return out;
}

/** Index/term/type/data as plain values, for readable comparisons. */
export function plain(entries: readonly Entry[] | undefined): string[] {
  return (entries ?? []).map(
    (e) => `${e.index}/t${e.term}${e.type === 'confChange' ? '/cc' : ''}:${new TextDecoder().decode(e.data)}`,
  );
}

export interface OpenedWal extends RecoveredWal {
  readonly io: IoCounters;
  readonly warnings: string[];
}

export function walDir(dir: string): string {
  return join(dir, 'wal');
}

const openWals: Wal[] = [];

export async function openWal(dir: string, segmentBytes = 1 << 20): Promise<OpenedWal> {
  const io = new IoCounters();
  const warnings: string[] = [];
  const opened = await Wal.open({ dir: walDir(dir), segmentBytes, io, warn: (m) => warnings.push(m) });
  openWals.push(opened.wal);
  return { ...opened, io, warnings };
}

/** Closes every WAL a test opened and left open (for an afterEach). */
export async function closeWals(): Promise<void> {
  for (const wal of openWals.splice(0)) await wal.close().catch(() => {});
}

/** Segment file names of the WAL under `dir`, oldest first. */
export async function segments(wal: string): Promise<string[]> {
  return (await readdir(wal)).filter((n) => n.endsWith('.wal')).sort();
}

export async function fileSize(path: string): Promise<number> {
  return (await stat(path)).size;
}

export async function cutBytes(path: string, count: number): Promise<void> {
  await truncate(path, (await fileSize(path)) - count);
}

export async function flipByte(path: string, offset: number): Promise<void> {
  const buf = await readFile(path);
  buf[offset] = (buf[offset] as number) ^ 0x40;
  await writeFile(path, buf);
}

export async function appendBytes(path: string, bytes: Uint8Array): Promise<void> {
  await writeFile(path, bytes, { flag: 'a' });
}
