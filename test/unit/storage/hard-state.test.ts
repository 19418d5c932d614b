/**
 * The hard-state file: replaced atomically, verified on load; a leftover temp file is a write that
 * never happened, and damage stops the node (a lost vote could let it vote twice in a term, §5.2).
 */
import { readFile, writeFile } from 'node:fs/promises';

import { describe, expect, it } from 'vitest';

import { IoCounters } from '../../../core/storage/disk.js';
import { hardStatePath, loadHardState, saveHardState } from '../../../core/storage/hard-state.js';
import { StorageCorruptionError } from '../../../core/storage/types.js';
import { useTempDir } from '../../support/temp-dir.js';
import { flipByte } from './helpers.js';

const tmp = useTempDir('meshdesk-hs-');

describe('hard state', () => {
  it('is absent for a new node', async () => {
    expect(await loadHardState(tmp())).toBeUndefined();
  });

  it('round trips term, vote (any UTF-8) and commit', async () => {
    const io = new IoCounters();
    await saveHardState(tmp(), { term: 7, vote: 'nœud-2', commit: 2 ** 40 }, io);
    expect(await loadHardState(tmp())).toEqual({ term: 7, vote: 'nœud-2', commit: 2 ** 40 });
    await saveHardState(tmp(), { term: 8, vote: '', commit: 3 }, io);
    expect(await loadHardState(tmp())).toEqual({ term: 8, vote: '', commit: 3 });
    // Each save: the temp file's fdatasync and the directory's fsync.
    expect(io.fsyncs).toBe(4);
    expect(io.dirSyncs).toBe(2);
  });

  it('ignores (and removes) a leftover temp file: the old state stands', async () => {
    await saveHardState(tmp(), { term: 3, vote: 'a', commit: 1 }, new IoCounters());
    const path = hardStatePath(tmp());
    await writeFile(`${path}.tmp`, 'half a write');
    expect(await loadHardState(tmp())).toEqual({ term: 3, vote: 'a', commit: 1 });
    await expect(readFile(`${path}.tmp`)).rejects.toThrow(/ENOENT/);
  });

  it('a flipped byte anywhere is StorageCorruptionError naming the file', async () => {
    await saveHardState(tmp(), { term: 3, vote: 'abc', commit: 1 }, new IoCounters());
    const path = hardStatePath(tmp());
    const good = await readFile(path);
    for (let offset = 0; offset < good.length; offset++) {
      await writeFile(path, good);
      await flipByte(path, offset);
      const err = await loadHardState(tmp()).catch((e: unknown) => e);
      expect(err, `byte ${offset}`).toBeInstanceOf(StorageCorruptionError);
      expect((err as StorageCorruptionError).file).toBe(path);
      expect((err as StorageCorruptionError).message).toContain(path);
    }
  });

  it('a truncated file is StorageCorruptionError', async () => {
    await saveHardState(tmp(), { term: 3, vote: 'abc', commit: 1 }, new IoCounters());
    const path = hardStatePath(tmp());
    await writeFile(path, (await readFile(path)).subarray(0, 10));
    await expect(loadHardState(tmp())).rejects.toBeInstanceOf(StorageCorruptionError);
  });
});
