/**
 * The record framing: what is written reads back, the header's JS checksum is CRC32C, and every
 * kind of damage is told apart.
 */
import { randomBytes } from 'node:crypto';

import { crc32c } from '@node-rs/crc32';
import { describe, expect, it } from 'vitest';

import {
  encodeCommit,
  encodeEntry,
  entryRecordBytes,
  findValidRecord,
  headerCrc,
  readRecord,
  viewOf,
} from '../../../core/storage/wal-record.js';
import { ent } from './helpers.js';

describe('record framing', () => {
  it('the header checksum is the same CRC32C as @node-rs/crc32', () => {
    for (let i = 0; i < 200; i++) {
      const bytes = randomBytes(8);
      expect(headerCrc(bytes, 0)).toBe(crc32c(bytes));
    }
    expect(headerCrc(new Uint8Array(8), 0)).toBe(crc32c(new Uint8Array(8)));
  });

  it('the payload checksum is CRC32C of the whole payload, for any data size', () => {
    for (const size of [0, 1, 7, 200, 4096, 70_000]) {
      const e = { ...ent(3, 2), data: randomBytes(size) };
      const buf = Buffer.alloc(entryRecordBytes(e));
      encodeEntry(buf, viewOf(buf), 0, e);
      expect(buf.readUInt32LE(4)).toBe(crc32c(buf.subarray(12)));
      expect(readRecord(buf, 0).ok).toBe(true);
    }
  });

  it('reads back entries and commit marks', () => {
    const e = { ...ent(2 ** 45, 2 ** 35, 'hello'), type: 'confChange' as const };
    const buf = Buffer.alloc(entryRecordBytes(e) + 29);
    const end = encodeEntry(buf, viewOf(buf), 0, e);
    encodeCommit(buf, viewOf(buf), end, 42);
    const first = readRecord(buf, 0);
    expect(first).toMatchObject({
      ok: true,
      end,
      record: { kind: 'entry', entry: { index: 2 ** 45, term: 2 ** 35, type: 'confChange' } },
    });
    expect(readRecord(buf, end)).toEqual({
      ok: true,
      end: buf.length,
      record: { kind: 'commit', commit: 42 },
    });
  });

  it('names what is wrong: short header, header checksum, short payload, payload checksum', () => {
    const e = ent(1, 1, 'payload');
    const buf = Buffer.alloc(entryRecordBytes(e));
    encodeEntry(buf, viewOf(buf), 0, e);
    expect(readRecord(buf.subarray(0, 5), 0)).toMatchObject({ ok: false, reason: /short header/ });
    expect(readRecord(buf.subarray(0, 20), 0)).toMatchObject({ ok: false, reason: /short payload/ });
    const badHeader = Buffer.from(buf);
    badHeader[1] = 0xff;
    expect(readRecord(badHeader, 0)).toMatchObject({ ok: false, reason: /header checksum/ });
    const badPayload = Buffer.from(buf);
    badPayload[buf.length - 1] = (badPayload[buf.length - 1] as number) ^ 1;
    expect(readRecord(badPayload, 0)).toMatchObject({ ok: false, reason: /payload checksum/ });
    expect(readRecord(Buffer.alloc(64), 0)).toMatchObject({ ok: false, reason: /header checksum/ });
  });

  it('finds a valid record after garbage, and none in zeros or random bytes', () => {
    const e = ent(7, 1);
    const rec = Buffer.alloc(entryRecordBytes(e));
    encodeEntry(rec, viewOf(rec), 0, e);
    const junk = randomBytes(1000);
    expect(findValidRecord(Buffer.concat([junk, rec]), 0)).toBe(1000);
    expect(findValidRecord(Buffer.alloc(100_000), 0)).toBe(-1);
    expect(findValidRecord(randomBytes(100_000), 0)).toBe(-1);
  });
});
