/**
 * The snapshot store: atomic writes, the newest two kept, each verified on load; a damaged newest
 * snapshot falls back to the one before with a warning, and none valid stops the node.
 */
import { randomBytes } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import type { Snapshot } from '../../../core/raft/types.js';
import { IoCounters } from '../../../core/storage/disk.js';
import { SnapshotStore, snapshotName } from '../../../core/storage/snapshot-store.js';
import { StorageCorruptionError } from '../../../core/storage/types.js';
import { useTempDir } from '../../support/temp-dir.js';
import { cutBytes, flipByte } from './helpers.js';

const tmp = useTempDir('meshdesk-snap-');

function snap(index: number, term: number, bytes = 1000): Snapshot {
  return {
    meta: {
      index,
      term,
      conf: { voters: ['a', 'b'], learners: ['c'], context: { a: '10.0.0.1:8441', c: 'x' } },
    },
    data: randomBytes(bytes),
  };
}

async function open(): Promise<{ store: SnapshotStore; snapshot: Snapshot | undefined; warnings: string[] }> {
  const warnings: string[] = [];
  const opened = await SnapshotStore.open(tmp(), new IoCounters(), (m) => warnings.push(m));
  return { ...opened, warnings };
}

function same(a: Snapshot | undefined, b: Snapshot): void {
  expect(a?.meta).toEqual(b.meta);
  expect(Buffer.from(a?.data ?? []).equals(b.data)).toBe(true);
}

describe('snapshot store', () => {
  it('holds nothing at first', async () => {
    expect((await open()).snapshot).toBeUndefined();
  });

  it('round trips meta (membership and context) and data, also an empty one at index 0', async () => {
    const { store } = await open();
    const first = {
      meta: { index: 0, term: 0, conf: { voters: ['a'], learners: [] } },
      data: new Uint8Array(),
    };
    await store.save(first);
    same((await open()).snapshot, first);
    const s = snap(10, 2, 100_000);
    await store.save(s);
    same((await open()).snapshot, s);
  });

  it('keeps the newest two', async () => {
    const { store } = await open();
    for (const i of [5, 10, 15, 20]) await store.save(snap(i, 1));
    expect(await readdir(tmp())).toEqual([snapshotName(15), snapshotName(20)]);
  });

  it('falls back to the previous snapshot when the newest is damaged, with a warning', async () => {
    const { store } = await open();
    const older = snap(10, 1);
    await store.save(older);
    await store.save(snap(20, 2));
    const newest = join(tmp(), snapshotName(20));
    await flipByte(newest, 500);
    const back = await open();
    same(back.snapshot, older);
    expect(back.warnings).toHaveLength(1);
    expect(back.warnings[0]).toContain(newest);
    // Set aside once the storage opened, so that retention cannot drop the good one next.
    await back.store.setAsideDamaged();
    expect(await readdir(tmp())).toEqual([snapshotName(10), `${snapshotName(20)}.damaged`]);
    await back.store.save(snap(30, 3));
    expect(await readdir(tmp())).toEqual([snapshotName(10), `${snapshotName(20)}.damaged`, snapshotName(30)]);
  });

  it('a torn newest snapshot falls back too', async () => {
    const { store } = await open();
    await store.save(snap(10, 1));
    await store.save(snap(20, 2));
    await cutBytes(join(tmp(), snapshotName(20)), 1);
    expect((await open()).snapshot?.meta.index).toBe(10);
  });

  it('none valid: StorageCorruptionError naming the newest and the offset, and nothing renamed', async () => {
    const { store } = await open();
    await store.save(snap(10, 1));
    await store.save(snap(20, 2));
    await flipByte(join(tmp(), snapshotName(10)), 40);
    await flipByte(join(tmp(), snapshotName(20)), 2);
    const err = await open().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageCorruptionError);
    const path = join(tmp(), snapshotName(20));
    expect((err as StorageCorruptionError).file).toBe(path);
    expect((err as StorageCorruptionError).offset).toBe(0);
    expect((err as StorageCorruptionError).message).toContain(path);
    expect(await readdir(tmp())).toEqual([snapshotName(10), snapshotName(20)]);
  });

  it('a snapshot whose name does not match its index is damaged', async () => {
    const { store } = await open();
    await store.save(snap(10, 1));
    await writeFile(join(tmp(), snapshotName(11)), await readFile(join(tmp(), snapshotName(10))));
    const back = await open();
    expect(back.snapshot?.meta.index).toBe(10);
    expect(back.warnings).toHaveLength(1);
  });

  it('ignores (and removes) a leftover temp file', async () => {
    const { store } = await open();
    const s = snap(10, 1);
    await store.save(s);
    await writeFile(join(tmp(), `${snapshotName(20)}.tmp`), randomBytes(300));
    const back = await open();
    same(back.snapshot, s);
    expect(back.warnings).toEqual([]);
    expect(await readdir(tmp())).toEqual([snapshotName(10)]);
  });
});
