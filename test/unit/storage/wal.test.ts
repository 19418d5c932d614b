/**
 * The write-ahead log on real files: round trips, rotation, cutting a conflicting suffix (§5.3),
 * compaction by whole segments, and recovery — a torn tail is cut with a warning, any other damage
 * stops the node with the file and byte offset.
 */
import { randomBytes } from 'node:crypto';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { StorageCorruptionError } from '../../../core/storage/types.js';
import { entryRecordBytes } from '../../../core/storage/wal-record.js';
import { segmentName } from '../../../core/storage/wal.js';
import { useTempDir } from '../../support/temp-dir.js';
import {
  appendBytes,
  closeWals,
  cutBytes,
  ent,
  ents,
  fileSize,
  flipByte,
  openWal,
  plain,
  segments,
  walDir,
} from './helpers.js';

const tmp = useTempDir('meshdesk-wal-');
afterEach(closeWals);

/** Entries 100..999 take 33 bytes ("e123"): a segment is full after six of them. */
const SMALL = 6 * 33;

async function expectCorruption(dir: string, file: string, offset: number): Promise<StorageCorruptionError> {
  const err = await openWal(dir, SMALL).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StorageCorruptionError);
  const corruption = err as StorageCorruptionError;
  expect(corruption.file).toBe(file);
  expect(corruption.offset).toBe(offset);
  expect(corruption.message).toContain(file);
  expect(corruption.message).toContain(`byte ${offset}`);
  return corruption;
}

describe('round trips', () => {
  it('reads back every entry, its type and data, and the highest commit mark', async () => {
    const { wal } = await openWal(tmp());
    const cc = { index: 3, term: 2, type: 'confChange' as const, data: new Uint8Array([1, 2, 3]) };
    await wal.write([ent(1, 1), ent(2, 1, '')], undefined, true);
    await wal.write([cc], 2, true);
    await wal.write([], 3, true);
    await wal.close();
    const back = await openWal(tmp());
    expect(plain(back.entries)).toEqual(['1/t1:e1', '2/t1:', '3/t2/cc:\u0001\u0002\u0003']);
    expect(back.commit).toBe(3);
    expect(back.warnings).toEqual([]);
    expect([back.wal.firstIndex, back.wal.lastIndex]).toEqual([1, 3]);
  });

  it('keeps large entries and large indexes intact', async () => {
    const { wal } = await openWal(tmp());
    const big = { index: 2 ** 40, term: 2 ** 33, type: 'normal' as const, data: randomBytes(300_000) };
    await wal.write([big], undefined, true);
    await wal.close();
    const back = await openWal(tmp());
    expect(back.entries).toHaveLength(1);
    expect(back.entries[0]?.index).toBe(2 ** 40);
    expect(back.entries[0]?.term).toBe(2 ** 33);
    expect(Buffer.from(back.entries[0]?.data ?? []).equals(big.data)).toBe(true);
  });

  it('rotates at segmentBytes, naming each segment by its first index', async () => {
    const { wal } = await openWal(tmp(), SMALL);
    for (let i = 100; i < 130; i += 2) await wal.write(ents(i, i + 1, 1), undefined, true);
    await wal.close();
    const names = await segments(walDir(tmp()));
    expect(names.length).toBeGreaterThan(3);
    expect(names[0]).toBe(segmentName(100));
    for (const name of names) expect(name).toMatch(/^\d{20}\.wal$/);
    // A segment is only started between batches once the previous one is full.
    for (const name of names.slice(0, -1)) {
      expect(await fileSize(join(walDir(tmp()), name))).toBeGreaterThanOrEqual(SMALL);
    }
    const back = await openWal(tmp(), SMALL);
    expect(plain(back.entries)).toEqual(plain(ents(100, 129, 1)));
  });
});

describe('cutting a conflicting suffix (§5.3)', () => {
  async function threeSegments(): Promise<string[]> {
    const { wal } = await openWal(tmp(), SMALL);
    for (let i = 100; i < 124; i += 6) await wal.write(ents(i, i + 5, 1), undefined, true);
    await wal.close();
    return segments(walDir(tmp()));
  }

  it('replaces entries at and after i across segment boundaries, deleting later segments', async () => {
    const before = await threeSegments();
    expect(before).toEqual([100, 106, 112, 118].map(segmentName));
    const { wal } = await openWal(tmp(), SMALL);
    await wal.write(ents(103, 104, 2), undefined, true);
    expect(await segments(walDir(tmp()))).toEqual([segmentName(100)]);
    await wal.write(ents(105, 106, 2), undefined, true);
    await wal.close();
    const back = await openWal(tmp(), SMALL);
    expect(plain(back.entries)).toEqual([...plain(ents(100, 102, 1)), ...plain(ents(103, 106, 2))]);
  });

  it('cuts at the first entry of a segment, and at the very first entry', async () => {
    await threeSegments();
    let { wal } = await openWal(tmp(), SMALL);
    await wal.write([ent(112, 3)], undefined, true);
    await wal.close();
    let back = await openWal(tmp(), SMALL);
    expect(plain(back.entries).slice(-2)).toEqual(['111/t1:e111', '112/t3:e112']);
    expect(await segments(walDir(tmp()))).toEqual([100, 106, 112].map(segmentName));
    await back.wal.close();

    ({ wal } = await openWal(tmp(), SMALL));
    await wal.write([ent(100, 4)], undefined, true);
    await wal.close();
    back = await openWal(tmp(), SMALL);
    expect(plain(back.entries)).toEqual(['100/t4:e100']);
    expect(await segments(walDir(tmp()))).toEqual([segmentName(100)]);
  });

  it('refuses a gap after the last entry', async () => {
    const { wal } = await openWal(tmp());
    await wal.write(ents(1, 3, 1), undefined, true);
    await expect(wal.write([ent(5, 1)], undefined, true)).rejects.toThrow(/gap/);
    // Refused input does not stop the log.
    await wal.write([ent(4, 1)], undefined, true);
  });
});

describe('compaction', () => {
  it('drops whole segments below the first index only, never the last', async () => {
    const { wal } = await openWal(tmp(), SMALL);
    for (let i = 100; i < 124; i += 6) await wal.write(ents(i, i + 5, 1), undefined, true);
    expect(await wal.dropBelow(105)).toBe(0);
    expect(await wal.dropBelow(112)).toBe(2);
    expect(await segments(walDir(tmp()))).toEqual([112, 118].map(segmentName));
    expect(await wal.dropBelow(1000)).toBe(1);
    expect(await segments(walDir(tmp()))).toEqual([segmentName(118)]);
    await wal.close();
    const back = await openWal(tmp(), SMALL);
    expect(plain(back.entries)).toEqual(plain(ents(118, 123, 1)));
  });
});

describe('restart after every operation', () => {
  it('recovers exactly what the model holds', async () => {
    const model: string[] = [];
    const apply = (entries: ReturnType<typeof ents>): void => {
      const first = entries[0]?.index ?? 0;
      const start = model.length === 0 ? first : Number(model[0]?.split('/')[0]);
      model.length = Math.max(0, first - start);
      model.push(...plain(entries));
    };
    const steps: ((wal: Awaited<ReturnType<typeof openWal>>['wal']) => Promise<void>)[] = [];
    const append = (entries: ReturnType<typeof ents>) =>
      steps.push(async (wal) => {
        await wal.write(entries, undefined, true);
        apply(entries);
      });
    append(ents(1, 5, 1));
    append(ents(6, 12, 1));
    append(ents(13, 20, 2));
    append(ents(9, 10, 3)); // cut across a segment boundary
    append(ents(11, 25, 3));
    steps.push(async (wal) => {
      await wal.dropBelow(14);
      const first = wal.firstIndex ?? 0;
      model.splice(
        0,
        model.findIndex((e) => e.startsWith(`${first}/`)),
      );
    });
    steps.push(async (wal) => {
      await wal.reset();
      model.length = 0;
    });
    append(ents(40, 45, 4));
    append(ents(46, 46, 4));

    for (const step of steps) {
      const { wal } = await openWal(tmp(), 120);
      await step(wal);
      await wal.close();
      const back = await openWal(tmp(), 120);
      expect(plain(back.entries)).toEqual(model);
      expect(back.warnings).toEqual([]);
      await back.wal.close();
    }
  });
});

describe('recovery from a torn tail', () => {
  /** Three batches of sizes 1, 2 and 3 entries (1..6) in one segment; returns record ends. */
  async function written(): Promise<{ path: string; ends: number[] }> {
    const { wal } = await openWal(tmp());
    const all = ents(1, 6, 1, (i) => 'x'.repeat(10 * i));
    await wal.write(all.slice(0, 1), undefined, true);
    await wal.write(all.slice(1, 3), undefined, true);
    await wal.write(all.slice(3, 6), undefined, true);
    await wal.close();
    const ends: number[] = [];
    let at = 0;
    for (const e of all) ends.push((at += entryRecordBytes(e)));
    return { path: join(walDir(tmp()), segmentName(1)), ends };
  }

  it('cuts the last 1..N bytes: every whole record before the cut survives', async () => {
    const { path, ends } = await written();
    const total = ends.at(-1) as number;
    const lastTwo = total - (ends.at(-3) as number);
    const copy = await readFile(path);
    for (let cut = 1; cut <= lastTwo + 1; cut++) {
      await writeFile(path, copy);
      await cutBytes(path, cut);
      const back = await openWal(tmp());
      const whole = ends.filter((end) => end <= total - cut).length;
      expect(back.entries.map((e) => e.index)).toEqual([1, 2, 3, 4, 5, 6].slice(0, whole));
      if (ends.includes(total - cut)) {
        expect(back.warnings).toEqual([]);
      } else {
        expect(back.warnings).toHaveLength(1);
        expect(back.warnings[0]).toContain(path);
      }
      expect(await fileSize(path)).toBe(ends[whole - 1] ?? 0);
      // The log goes on from the cut.
      await back.wal.write([ent(whole + 1, 2)], undefined, true);
      await back.wal.close();
      const again = await openWal(tmp());
      expect(again.entries.map((e) => e.index)).toEqual([...[1, 2, 3, 4, 5, 6].slice(0, whole), whole + 1]);
      expect(again.warnings).toEqual([]);
      await again.wal.close();
    }
  });

  it('cuts a zero-filled tail', async () => {
    const { path, ends } = await written();
    await appendBytes(path, new Uint8Array(8192));
    const back = await openWal(tmp());
    expect(back.entries).toHaveLength(6);
    expect(back.warnings).toHaveLength(1);
    expect(await fileSize(path)).toBe(ends.at(-1));
  });

  it('cuts a garbage tail', async () => {
    const { path } = await written();
    for (let round = 0; round < 20; round++) {
      await appendBytes(path, randomBytes(1 + Math.floor(Math.random() * 3000)));
      const back = await openWal(tmp());
      expect(back.entries).toHaveLength(6);
      expect(back.warnings).toHaveLength(1);
      await back.wal.close();
    }
  });

  it('cuts a torn commit mark', async () => {
    const { wal } = await openWal(tmp());
    await wal.write(ents(1, 2, 1), undefined, true);
    await wal.write([], 2, true);
    await wal.close();
    await cutBytes(join(walDir(tmp()), segmentName(1)), 3);
    const back = await openWal(tmp());
    expect(back.entries).toHaveLength(2);
    expect(back.commit).toBe(0);
    expect(back.warnings).toHaveLength(1);
  });

  it('cuts a torn first record of a freshly started segment', async () => {
    const { wal } = await openWal(tmp(), SMALL);
    for (let i = 100; i < 112; i += 6) await wal.write(ents(i, i + 5, 1), undefined, true);
    await wal.close();
    await cutBytes(join(walDir(tmp()), segmentName(106)), 10 + entryRecordBytes(ent(111, 1)) * 5);
    const back = await openWal(tmp(), SMALL);
    expect(back.entries.map((e) => e.index)).toEqual([100, 101, 102, 103, 104, 105]);
    expect(await fileSize(join(walDir(tmp()), segmentName(106)))).toBe(0);
    await back.wal.write([ent(106, 2)], undefined, true);
    await back.wal.close();
    expect(plain((await openWal(tmp(), SMALL)).entries).at(-1)).toBe('106/t2:e106');
  });
});

describe('recovery refuses damage that is not a torn tail', () => {
  async function fourSegments(): Promise<string> {
    const { wal } = await openWal(tmp(), SMALL);
    for (let i = 100; i < 124; i += 6) await wal.write(ents(i, i + 5, 1), undefined, true);
    await wal.close();
    return walDir(tmp());
  }

  it('a flipped byte in the middle of an older segment names the file and the record offset', async () => {
    const wal = await fourSegments();
    const file = join(wal, segmentName(106));
    const record = entryRecordBytes(ent(106, 1));
    await flipByte(file, 2 * record + 20); // inside the payload of the third record
    const err = await expectCorruption(tmp(), file, 2 * record);
    expect(err.message).toMatch(/checksum/);
  });

  it('a flipped length byte in an older segment is caught by the header checksum', async () => {
    const wal = await fourSegments();
    const file = join(wal, segmentName(100));
    await flipByte(file, entryRecordBytes(ent(100, 1)));
    await expectCorruption(tmp(), file, entryRecordBytes(ent(100, 1)));
  });

  it('damage to the last record of an older segment is not a torn tail', async () => {
    const wal = await fourSegments();
    const file = join(wal, segmentName(112));
    const size = await fileSize(file);
    await cutBytes(file, 1);
    await expectCorruption(tmp(), file, size - entryRecordBytes(ent(117, 1)));
  });

  it('a flipped byte in a record of the newest segment followed by valid records', async () => {
    const { wal } = await openWal(tmp());
    await wal.write(ents(1, 3, 1), undefined, true);
    await wal.write(ents(4, 6, 1), undefined, true);
    await wal.close();
    const file = join(walDir(tmp()), segmentName(1));
    const record = entryRecordBytes(ent(1, 1));
    await flipByte(file, 3 * record + 15);
    const err = await expectCorruption(tmp(), file, 3 * record);
    expect(err.message).toContain(`valid record at byte ${4 * record}`);
  });

  it('a missing segment in the middle is a gap', async () => {
    const wal = await fourSegments();
    await rm(join(wal, segmentName(106)));
    await expectCorruption(tmp(), join(wal, segmentName(112)), 0);
  });

  it('a segment whose first entry is not the one its name gives', async () => {
    const wal = await fourSegments();
    await writeFile(join(wal, segmentName(106)), await readFile(join(wal, segmentName(112))));
    await rm(join(wal, segmentName(112)));
    await rm(join(wal, segmentName(118)));
    await expectCorruption(tmp(), join(wal, segmentName(106)), 0);
  });

  it('records out of order inside a segment', async () => {
    const { wal } = await openWal(tmp());
    await wal.write(ents(1, 2, 1), undefined, true);
    await wal.close();
    // A second log whose records are appended to the first: index 1 follows index 2.
    const file = join(walDir(tmp()), segmentName(1));
    const content = await readFile(file);
    await appendBytes(file, content);
    await expectCorruption(tmp(), file, content.length);
  });

  it('touches nothing when it refuses to open', async () => {
    const wal = await fourSegments();
    const file = join(wal, segmentName(100));
    await flipByte(file, 20);
    const before = await readdir(wal);
    const sizes = await Promise.all(before.map((n) => fileSize(join(wal, n))));
    await expect(openWal(tmp(), SMALL)).rejects.toBeInstanceOf(StorageCorruptionError);
    expect(await readdir(wal)).toEqual(before);
    expect(await Promise.all(before.map((n) => fileSize(join(wal, n))))).toEqual(sizes);
  });
});

describe('syncs', () => {
  it('one fdatasync per synced batch, whatever its number of entries', async () => {
    const { wal, io } = await openWal(tmp());
    const sizes = [1, 10, 100, 1000, 3];
    let next = 1;
    for (const n of sizes) {
      await wal.write(ents(next, next + n - 1, 1), undefined, true);
      next += n;
    }
    // The first batch also created the segment (one directory fsync).
    expect(io.walSyncs).toBe(sizes.length);
    expect(io.fsyncs).toBe(sizes.length + 1);
    expect(io.dirSyncs).toBe(1);
    await wal.write(ents(next, next + 4, 1), 7, false);
    expect(io.walSyncs).toBe(sizes.length);
    await wal.sync();
    expect(io.walSyncs).toBe(sizes.length + 1);
    await wal.sync();
    expect(io.walSyncs).toBe(sizes.length + 1);
  });
});
