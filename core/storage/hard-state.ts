/**
 * Term, vote and commit in `<dir>/raft/hardstate`, replaced atomically (temp file, fdatasync,
 * rename, directory fsync) and verified by a CRC32C on load. A damaged file stops the node: a lost
 * term or vote could let it vote twice in one term (§5.2).
 *
 *   "MDHS" | u32 version 1 | u64 term | u64 commit | u32 vote length | vote (UTF-8) | u32 CRC32C
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { crc32c } from '@node-rs/crc32';

import type { HardState } from '../raft/types.js';
import { errnoCode, readU64, unlinkIfExists, writeFileAtomic, writeU64, type IoCounters } from './disk.js';
import { StorageCorruptionError } from './types.js';

const MAGIC = 0x5348444d; // "MDHS" read as a little-endian u32
const VERSION = 1;
const FIXED_BYTES = 4 + 4 + 8 + 8 + 4;
const CRC_BYTES = 4;

export function hardStatePath(raftDir: string): string {
  return join(raftDir, 'hardstate');
}

export function encodeHardState(hs: HardState): Buffer {
  const vote = Buffer.from(hs.vote, 'utf8');
  const buf = Buffer.alloc(FIXED_BYTES + vote.length + CRC_BYTES);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, VERSION, true);
  writeU64(view, 8, hs.term);
  writeU64(view, 16, hs.commit);
  view.setUint32(24, vote.length, true);
  buf.set(vote, FIXED_BYTES);
  const end = FIXED_BYTES + vote.length;
  view.setUint32(end, crc32c(buf.subarray(0, end)), true);
  return buf;
}

function decode(buf: Buffer, path: string): HardState {
  const fail = (what: string, offset: number): never => {
    throw new StorageCorruptionError(`hard state ${path} is damaged: ${what} (byte ${offset})`, path, offset);
  };
  if (buf.length < FIXED_BYTES + CRC_BYTES) return fail(`only ${buf.length} bytes`, buf.length);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const voteLength = view.getUint32(24, true);
  const end = FIXED_BYTES + voteLength;
  if (end + CRC_BYTES !== buf.length) return fail(`vote length ${voteLength} does not fit the file`, 24);
  if (crc32c(buf.subarray(0, end)) !== view.getUint32(end, true)) return fail('checksum mismatch', end);
  if (view.getUint32(0, true) !== MAGIC) return fail('not a hard-state file', 0);
  if (view.getUint32(4, true) !== VERSION) return fail(`unknown version ${view.getUint32(4, true)}`, 4);
  const term = readU64(view, 8);
  const commit = readU64(view, 16);
  if (term === undefined || commit === undefined) return fail('term or commit out of range', 8);
  return { term, vote: buf.subarray(FIXED_BYTES, end).toString('utf8'), commit };
}

/** The stored hard state; undefined for a new node. A leftover temp file is a write that never happened. */
export async function loadHardState(raftDir: string): Promise<HardState | undefined> {
  const path = hardStatePath(raftDir);
  await unlinkIfExists(`${path}.tmp`);
  let buf: Buffer;
  try {
    buf = await readFile(path);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
  return decode(buf, path);
}

export async function saveHardState(raftDir: string, hs: HardState, io: IoCounters): Promise<void> {
  await writeFileAtomic(hardStatePath(raftDir), [encodeHardState(hs)], io);
}
