/**
 * The framing of one write-ahead-log record:
 *
 *   header  u32 payload length | u32 CRC32C(payload) | u32 CRC32C(the 8 bytes before)
 *   payload u8 kind | u64 term | u64 index | data
 *
 * All little-endian. The header has its own checksum so that a damaged length is told apart from
 * a torn payload, and so that recovery can look for valid records after a bad one without trusting
 * any length it read. Small checksums (the header, the payload's fixed 17 bytes) are computed in
 * JS, cheaper than a native call; the payload's checksum then goes on natively over the entry's
 * data, without copying or slicing it. Kinds: a normal entry, a membership-change entry, or a commit mark (the
 * commit index in `index`, no term, no data) that lets a commit-only change ride the batch's
 * single fdatasync instead of costing a hard-state write.
 */
import { crc32c } from '@node-rs/crc32';

import type { Entry } from '../raft/types.js';
import { readU64, writeU64 } from './disk.js';

export const HEADER_BYTES = 12;
const PAYLOAD_FIXED_BYTES = 17;

const KIND_NORMAL = 1;
const KIND_CONF_CHANGE = 2;
const KIND_COMMIT = 3;

export type WalRecord =
  { readonly kind: 'entry'; readonly entry: Entry } | { readonly kind: 'commit'; readonly commit: number };

export type ReadResult =
  | { readonly ok: true; readonly record: WalRecord; readonly end: number }
  | { readonly ok: false; readonly reason: string };

/** Bytes one entry takes on disk. */
export function entryRecordBytes(entry: Entry): number {
  return HEADER_BYTES + PAYLOAD_FIXED_BYTES + entry.data.length;
}

export const COMMIT_RECORD_BYTES = HEADER_BYTES + PAYLOAD_FIXED_BYTES;

const CRC32C_TABLE = new Int32Array(256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  CRC32C_TABLE[n] = c;
}

/** CRC32C of buf[start..end), the same function as @node-rs/crc32's crc32c; for a few bytes. */
function smallCrc(buf: Uint8Array, start: number, end: number): number {
  let crc = -1;
  for (let i = start; i < end; i++) {
    crc = (CRC32C_TABLE[(crc ^ (buf[i] as number)) & 0xff] as number) ^ (crc >>> 8);
  }
  return (crc ^ -1) >>> 0;
}

/** CRC32C of the 8 header bytes at `offset`. */
export function headerCrc(buf: Uint8Array, offset: number): number {
  return smallCrc(buf, offset, offset + 8);
}

/** A view over a whole batch buffer, made once per batch. */
export function viewOf(buf: Buffer): DataView {
  return new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** Writes one record at `offset` of `buf`; returns the offset after it. */
function encode(
  buf: Buffer,
  view: DataView,
  offset: number,
  kind: number,
  term: number,
  index: number,
  data: Uint8Array,
): number {
  const payload = offset + HEADER_BYTES;
  const length = PAYLOAD_FIXED_BYTES + data.length;
  view.setUint8(payload, kind);
  writeU64(view, payload + 1, term);
  writeU64(view, payload + 9, index);
  buf.set(data, payload + PAYLOAD_FIXED_BYTES);
  // CRC32C(fixed ‖ data), continued from the fixed part's CRC over the caller's own array.
  const fixedCrc = smallCrc(buf, payload, payload + PAYLOAD_FIXED_BYTES);
  view.setUint32(offset, length, true);
  view.setUint32(offset + 4, data.length > 0 ? crc32c(data, fixedCrc) : fixedCrc, true);
  view.setUint32(offset + 8, headerCrc(buf, offset), true);
  return payload + length;
}

const NO_DATA = new Uint8Array(0);

export function encodeEntry(buf: Buffer, view: DataView, offset: number, entry: Entry): number {
  const kind = entry.type === 'confChange' ? KIND_CONF_CHANGE : KIND_NORMAL;
  return encode(buf, view, offset, kind, entry.term, entry.index, entry.data);
}

export function encodeCommit(buf: Buffer, view: DataView, offset: number, commit: number): number {
  return encode(buf, view, offset, KIND_COMMIT, 0, commit, NO_DATA);
}

/** The header at `offset` is whole and its checksum holds; returns the payload length. */
function headerLength(buf: Buffer, offset: number): number | undefined {
  if (buf.length - offset < HEADER_BYTES) return undefined;
  if (headerCrc(buf, offset) !== buf.readUInt32LE(offset + 8)) return undefined;
  return buf.readUInt32LE(offset);
}

/** Reads and verifies the record at `offset`. Entry data is copied out of `buf`. */
export function readRecord(buf: Buffer, offset: number): ReadResult {
  if (buf.length - offset < HEADER_BYTES) {
    return { ok: false, reason: `short header (${buf.length - offset} of ${HEADER_BYTES} bytes)` };
  }
  const length = headerLength(buf, offset);
  if (length === undefined) return { ok: false, reason: 'header checksum mismatch' };
  if (length < PAYLOAD_FIXED_BYTES) return { ok: false, reason: `impossible payload length ${length}` };
  const payload = offset + HEADER_BYTES;
  const end = payload + length;
  if (end > buf.length) {
    return { ok: false, reason: `short payload (${buf.length - payload} of ${length} bytes)` };
  }
  if (crc32c(buf.subarray(payload, end)) !== buf.readUInt32LE(offset + 4)) {
    return { ok: false, reason: 'payload checksum mismatch' };
  }
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const kind = view.getUint8(payload);
  const term = readU64(view, payload + 1);
  const index = readU64(view, payload + 9);
  if (term === undefined || index === undefined) return { ok: false, reason: 'term or index out of range' };
  if (kind === KIND_COMMIT) return { ok: true, record: { kind: 'commit', commit: index }, end };
  if (kind !== KIND_NORMAL && kind !== KIND_CONF_CHANGE) return { ok: false, reason: `unknown kind ${kind}` };
  const type = kind === KIND_CONF_CHANGE ? 'confChange' : 'normal';
  const data = new Uint8Array(buf.subarray(payload + PAYLOAD_FIXED_BYTES, end));
  return { ok: true, record: { kind: 'entry', entry: { term, index, type, data } }, end };
}

/**
 * The offset of the first verifiable record at or after `from`, trying every byte offset, or -1.
 * Cheap on zeros and garbage: a candidate's length must fit before any checksum is computed.
 */
export function findValidRecord(buf: Buffer, from: number): number {
  for (let offset = from; offset + HEADER_BYTES <= buf.length; offset++) {
    const length = buf.readUInt32LE(offset);
    if (length < PAYLOAD_FIXED_BYTES || length > buf.length - offset - HEADER_BYTES) continue;
    if (headerLength(buf, offset) === undefined) continue;
    if (readRecord(buf, offset).ok) return offset;
  }
  return -1;
}
