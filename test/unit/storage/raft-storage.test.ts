/**
 * openRaftStorage as the replica driver uses it: batches in the Ready order, recovery consistent
 * for the Raft core, one fdatasync per synced batch, and the rule that a log left behind by a
 * crash during a leader's snapshot install is not resurrected.
 *
 * A "crash" copies the data directory while the storage is still open (what a kill -9 leaves:
 * everything written, nothing closed), and opens the copy.
 */
import { cp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import type { HardState, PersistedState, Snapshot } from '../../../core/raft/types.js';
import { IoCounters } from '../../../core/storage/disk.js';
import { hardStatePath } from '../../../core/storage/hard-state.js';
import { openRaftStorage, type RaftStorage, type StorageOptions } from '../../../core/storage/index.js';
import { SnapshotStore } from '../../../core/storage/snapshot-store.js';
import { StorageCorruptionError } from '../../../core/storage/types.js';
import { segmentName } from '../../../core/storage/wal.js';
import { useTempDir } from '../../support/temp-dir.js';
import { cutBytes, ent, ents, plain } from './helpers.js';

const tmp = useTempDir('meshdesk-storage-');
const open: RaftStorage[] = [];
const warnings: string[] = [];

afterEach(async () => {
  for (const s of open.splice(0)) await s.close().catch(() => {});
  warnings.length = 0;
});

function node(name = 'node'): string {
  return join(tmp(), name);
}

async function start(dir = node(), options: Partial<StorageOptions> = {}): Promise<RaftStorage> {
  const storage = await openRaftStorage({ dir, warn: (m) => warnings.push(m), ...options });
  open.push(storage);
  return storage;
}

async function restart(storage: RaftStorage, dir = node()): Promise<RaftStorage> {
  await storage.close();
  return start(dir);
}

let crashes = 0;
/** What a kill -9 leaves: the files as they are now, the storage never closed. */
async function crashCopy(dir = node()): Promise<string> {
  const copy = join(tmp(), `crash-${++crashes}`);
  await cp(join(dir, 'raft'), join(copy, 'raft'), { recursive: true });
  return copy;
}

function snap(index: number, term: number, data = `state@${index}`): Snapshot {
  return {
    meta: { index, term, conf: { voters: ['a', 'b', 'c'], learners: [] } },
    data: new TextEncoder().encode(data),
  };
}

function summary(p: PersistedState): { hardState?: HardState; snapshot?: string; entries: string[] } {
  return {
    ...(p.hardState ? { hardState: p.hardState } : {}),
    ...(p.snapshot ? { snapshot: `${p.snapshot.meta.index}/t${p.snapshot.meta.term}` } : {}),
    entries: plain(p.entries),
  };
}

describe('open and round trips', () => {
  it('a new data directory recovers nothing', async () => {
    const s = await start();
    expect(summary(s.recovered)).toEqual({ entries: [] });
    expect(s.stats()).toMatchObject({ firstIndex: 1, lastIndex: 0, segments: 0, snapshotIndex: 0 });
  });

  it('entries and hard state come back after a clean restart and after a crash', async () => {
    let s = await start();
    await s.save({ entries: ents(1, 3, 1), hardState: { term: 1, vote: 'a', commit: 0 }, mustSync: true });
    await s.save({ entries: ents(4, 5, 1), hardState: { term: 1, vote: 'a', commit: 3 }, mustSync: true });
    const expected = { hardState: { term: 1, vote: 'a', commit: 3 }, entries: plain(ents(1, 5, 1)) };
    const crashed = await start(await crashCopy());
    expect(summary(crashed.recovered)).toEqual(expected);
    s = await restart(s);
    expect(summary(s.recovered)).toEqual(expected);
    expect(s.stats()).toMatchObject({ firstIndex: 1, lastIndex: 5, segments: 1 });
    expect(warnings).toEqual([]);
  });

  it('a snapshot from the leader replaces the whole log; entries follow it', async () => {
    let s = await start();
    await s.save({ entries: ents(1, 10, 1), hardState: { term: 1, vote: '', commit: 5 }, mustSync: true });
    await s.save({
      snapshot: snap(20, 3),
      entries: ents(21, 22, 3),
      hardState: { term: 3, vote: '', commit: 20 },
      mustSync: true,
    });
    const expected = {
      hardState: { term: 3, vote: '', commit: 20 },
      snapshot: '20/t3',
      entries: plain(ents(21, 22, 3)),
    };
    expect(summary((await start(await crashCopy())).recovered)).toEqual(expected);
    s = await restart(s);
    expect(summary(s.recovered)).toEqual(expected);
    expect(new TextDecoder().decode(s.recovered.snapshot?.data)).toBe('state@20');
    expect(await readdir(join(node(), 'raft', 'wal'))).toEqual([segmentName(21)]);
  });

  it('a conflicting suffix is replaced (§5.3) and stays replaced across restarts', async () => {
    let s = await start();
    await s.save({ entries: ents(1, 6, 1), hardState: { term: 1, vote: 'a', commit: 2 }, mustSync: true });
    await s.save({ entries: ents(4, 4, 2), hardState: { term: 2, vote: '', commit: 2 }, mustSync: true });
    s = await restart(s);
    expect(plain(s.recovered.entries)).toEqual([...plain(ents(1, 3, 1)), '4/t2:e4']);
  });
});

describe('restart after every operation recovers exactly', () => {
  it('through appends, cuts, rotation, compaction, local and leader snapshots', async () => {
    type Model = { hardState?: HardState; snapshot?: string; entries: string[] };
    const model: Model = { entries: [] };
    const steps: { name: string; run: (s: RaftStorage) => Promise<void> }[] = [];
    const append = (from: number, to: number, term: number, hs?: HardState, mustSync = true) =>
      steps.push({
        name: `append ${from}..${to} t${term}`,
        run: async (s) => {
          await s.save({ entries: ents(from, to, term), ...(hs ? { hardState: hs } : {}), mustSync });
          const keep = model.entries.filter((e) => Number(e.split('/')[0]) < from);
          model.entries = [...keep, ...plain(ents(from, to, term))];
          if (hs) model.hardState = hs;
        },
      });
    append(1, 8, 1, { term: 1, vote: 'a', commit: 0 });
    append(9, 20, 1, { term: 1, vote: 'a', commit: 8 });
    append(15, 25, 2, { term: 2, vote: 'b', commit: 12 });
    steps.push({
      name: 'commit only, not synced',
      run: async (s) => {
        await s.save({ entries: [], hardState: { term: 2, vote: 'b', commit: 20 }, mustSync: false });
        model.hardState = { term: 2, vote: 'b', commit: 20 };
      },
    });
    steps.push({
      name: 'local snapshot and compaction',
      run: async (s) => {
        await s.saveSnapshot(snap(18, 2));
        await s.compact(16);
        model.snapshot = '18/t2';
        model.entries = model.entries.filter((e) => Number(e.split('/')[0]) > 18);
      },
    });
    append(26, 40, 2, { term: 2, vote: 'b', commit: 30 });
    steps.push({
      name: 'leader snapshot',
      run: async (s) => {
        await s.save({
          snapshot: snap(50, 4),
          entries: [],
          hardState: { term: 4, vote: '', commit: 50 },
          mustSync: true,
        });
        model.snapshot = '50/t4';
        model.entries = [];
        model.hardState = { term: 4, vote: '', commit: 50 };
      },
    });
    append(51, 60, 4, { term: 4, vote: '', commit: 55 });

    let s = await start(node(), { segmentBytes: 150 });
    for (const step of steps) {
      await step.run(s);
      await s.close();
      s = await start(node(), { segmentBytes: 150 });
      const got = summary(s.recovered);
      // Entries below the snapshot are not handed back (the core starts after the snapshot).
      expect(got, step.name).toEqual(model);
    }
    expect(warnings).toEqual([]);
  });
});

describe('syncs', () => {
  it('one fdatasync per mustSync batch regardless of the number of entries', async () => {
    const s = await start();
    await s.save({ entries: [ent(1, 1)], hardState: { term: 1, vote: 'a', commit: 0 }, mustSync: true });
    const before = s.stats();
    let next = 2;
    const sizes = [1, 5, 50, 500, 2];
    for (const n of sizes) {
      // The commit advances each batch: it rides the same fdatasync as a commit mark.
      await s.save({
        entries: ents(next, next + n - 1, 1),
        hardState: { term: 1, vote: 'a', commit: next - 1 },
        mustSync: true,
      });
      next += n;
    }
    const after = s.stats();
    expect(after.walSyncs - before.walSyncs).toBe(sizes.length);
    expect(after.fsyncs - before.fsyncs).toBe(sizes.length);
    expect(after.dirSyncs - before.dirSyncs).toBe(0);
    // The commit survives a crash though the hard-state file was not rewritten.
    const crashed = await start(await crashCopy());
    expect(crashed.recovered.hardState).toEqual({ term: 1, vote: 'a', commit: next - 1 - sizes.at(-1)! });
  });

  it('a term or vote change rewrites the hard-state file atomically; a commit-only change without sync costs nothing', async () => {
    const s = await start();
    await s.save({ entries: [ent(1, 1)], mustSync: true });
    let before = s.stats();
    await s.save({ entries: [], hardState: { term: 2, vote: 'b', commit: 0 }, mustSync: true });
    // temp file fdatasync + directory fsync; the log had nothing to sync.
    expect(s.stats().fsyncs - before.fsyncs).toBe(2);
    before = s.stats();
    await s.save({ entries: [], hardState: { term: 2, vote: 'b', commit: 1 }, mustSync: false });
    expect(s.stats().fsyncs - before.fsyncs).toBe(0);
    expect(s.stats().bytesWritten).toBe(before.bytesWritten);
    // Losing it in a crash is harmless: the commit index is learnt again.
    expect((await start(await crashCopy())).recovered.hardState).toEqual({ term: 2, vote: 'b', commit: 0 });
    // A clean shutdown keeps it.
    const again = await restart(s);
    expect(again.recovered.hardState).toEqual({ term: 2, vote: 'b', commit: 1 });
  });

  it('a batch that cuts a suffix costs one more fdatasync (the cut is made durable first)', async () => {
    const s = await start();
    await s.save({ entries: ents(1, 5, 1), mustSync: true });
    const before = s.stats();
    await s.save({ entries: ents(3, 4, 2), mustSync: true });
    expect(s.stats().walSyncs - before.walSyncs).toBe(2);
  });
});

describe('a log that does not match the snapshot it follows', () => {
  /** Log 1..10 of term 1, then a snapshot stored as if a crash came before the log was reset. */
  async function crashedInstall(snapshot: Snapshot): Promise<void> {
    const s = await start();
    await s.save({ entries: ents(1, 10, 1), hardState: { term: 1, vote: '', commit: 4 }, mustSync: true });
    await s.close();
    const { store } = await SnapshotStore.open(join(node(), 'raft', 'snapshots'), new IoCounters(), () => {});
    await store.save(snapshot);
  }

  it('holds the snapshot index with another term: discarded, also on disk', async () => {
    await crashedInstall(snap(8, 2));
    let s = await start();
    expect(summary(s.recovered)).toEqual({
      hardState: { term: 1, vote: '', commit: 4 },
      snapshot: '8/t2',
      entries: [],
    });
    expect(warnings).toHaveLength(1);
    s = await restart(s);
    expect(s.recovered.entries).toEqual([]);
    expect(s.stats()).toMatchObject({ firstIndex: 9, lastIndex: 8, segments: 0 });
    await s.save({ entries: ents(9, 9, 2), mustSync: true });
    s = await restart(s);
    expect(plain(s.recovered.entries)).toEqual(['9/t2:e9']);
  });

  it('does not reach the snapshot: discarded', async () => {
    await crashedInstall(snap(15, 2));
    const s = await start();
    expect(summary(s.recovered)).toMatchObject({ snapshot: '15/t2', entries: [] });
  });

  it('holds the snapshot index with the same term: the entries after it are kept', async () => {
    await crashedInstall(snap(8, 1));
    const s = await start();
    expect(plain(s.recovered.entries)).toEqual(plain(ents(9, 10, 1)));
    expect(warnings).toEqual([]);
  });

  it('starts after the snapshot with a gap: StorageCorruptionError', async () => {
    // Two entries of 31 bytes fill a segment.
    const s = await start(node(), { segmentBytes: 60 });
    for (let i = 1; i < 10; i += 2) await s.save({ entries: ents(i, i + 1, 1), mustSync: true });
    await s.saveSnapshot(snap(2, 1));
    await s.saveSnapshot(snap(6, 1));
    await s.compact(7);
    await s.close();
    const wal = join(node(), 'raft', 'wal');
    expect((await readdir(wal)).sort()[0]).toBe(segmentName(7));
    // Lose the newest snapshot: the older one it falls back to does not reach the log.
    await rm(join(node(), 'raft', 'snapshots', '00000000000000000006.snap'));
    const err = await start().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageCorruptionError);
    expect((err as StorageCorruptionError).message).toMatch(/entries 3\.\.6 are missing/);
    expect((err as StorageCorruptionError).file).toBe(join(wal, segmentName(7)));
  });
});

describe('bad input changes nothing', () => {
  it('rejects a gap, entries at or below the snapshot, non-contiguous entries, an old snapshot', async () => {
    const s = await start();
    await s.save({ snapshot: snap(5, 1), entries: ents(6, 8, 1), mustSync: true });
    const before = s.stats();
    await expect(s.save({ entries: ents(10, 11, 1), mustSync: true })).rejects.toThrow(/start at 10/);
    await expect(s.save({ entries: ents(5, 6, 1), mustSync: true })).rejects.toThrow(/start at 5/);
    await expect(s.save({ entries: [ent(9, 1), ent(11, 1)], mustSync: true })).rejects.toThrow(/contiguous/);
    await expect(s.save({ snapshot: snap(5, 1), entries: [], mustSync: true })).rejects.toThrow(/not newer/);
    await expect(s.save({ entries: [ent(-1, 1)], mustSync: true })).rejects.toThrow(/malformed/);
    await expect(s.save({ entries: [ent(9, 2), ent(10, 1)], mustSync: true })).rejects.toThrow(/term/);
    expect(s.stats()).toEqual(before);
    // Refused input does not poison the storage.
    await s.save({ entries: ents(9, 9, 1), mustSync: true });
    const again = await restart(s);
    expect(plain(again.recovered.entries)).toEqual(plain(ents(6, 9, 1)));
  });
});

describe('damage on disk', () => {
  it('a torn tail is cut with a warning through options.warn', async () => {
    const s = await start();
    await s.save({ entries: ents(1, 3, 1), mustSync: true });
    await s.save({ entries: ents(4, 6, 1), mustSync: true });
    await s.close();
    await cutBytes(join(node(), 'raft', 'wal', segmentName(1)), 5);
    const back = await start();
    expect(plain(back.recovered.entries)).toEqual(plain(ents(1, 5, 1)));
    expect(warnings).toHaveLength(1);
  });

  it('a damaged hard state stops the open and releases the lock', async () => {
    const s = await start();
    await s.save({ entries: [], hardState: { term: 3, vote: 'a', commit: 0 }, mustSync: true });
    await s.close();
    const path = hardStatePath(join(node(), 'raft'));
    const bytes = await readFile(path);
    bytes[9] = (bytes[9] as number) ^ 1;
    await writeFile(path, bytes);
    await expect(start()).rejects.toBeInstanceOf(StorageCorruptionError);
    expect(await readdir(join(node(), 'lock'))).toEqual([]);
    expect((await stat(path)).size).toBe(bytes.length);
  });
});
