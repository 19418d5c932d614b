/**
 * The test-only snapshot hook (StorageOptions.onSnapshotStep) that lets the Jepsen suite kill a
 * node in the middle of a snapshot. Here the hook throws instead of killing: what it leaves on
 * disk at each step is what a crash there leaves, and the store must open to the last whole one.
 */
import { randomBytes } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import type { Snapshot } from '../../../core/raft/types.js';
import { IoCounters } from '../../../core/storage/disk.js';
import { SnapshotStore, snapshotName } from '../../../core/storage/snapshot-store.js';
import type { SnapshotStep } from '../../../core/storage/types.js';
import { useTempDir } from '../../support/temp-dir.js';

const tmp = useTempDir('meshdesk-snap-hook-');

function snap(index: number, bytes = 10_000): Snapshot {
  return { meta: { index, term: 1, conf: { voters: ['a'], learners: [] } }, data: randomBytes(bytes) };
}

class Crash extends Error {}

/** A store whose hook "crashes" (throws) at `at`, and the steps it saw. */
async function storeCrashingAt(
  at: SnapshotStep | undefined,
): Promise<{ store: SnapshotStore; steps: string[] }> {
  const steps: string[] = [];
  const { store } = await SnapshotStore.open(
    tmp(),
    new IoCounters(),
    () => {},
    (step) => {
      steps.push(step);
      if (step === at) throw new Crash(step);
    },
  );
  return { store, steps };
}

describe('snapshot step hook', () => {
  it('sees both steps of a whole save, which stores the same file as without a hook', async () => {
    const { store, steps } = await storeCrashingAt(undefined);
    const s = snap(5);
    await store.save(s);
    expect(steps).toEqual(['partly-written', 'saved']);
    const opened = await SnapshotStore.open(tmp(), new IoCounters(), () => {});
    expect(opened.snapshot?.meta.index).toBe(5);
    expect(Buffer.from(opened.snapshot?.data ?? []).equals(s.data)).toBe(true);
  });

  it('a crash while partly written leaves a short temp file, and the store opens to the one before', async () => {
    const { store: plain } = await storeCrashingAt(undefined);
    await plain.save(snap(5));
    const { store } = await storeCrashingAt('partly-written');
    const next = snap(9);
    await expect(store.save(next)).rejects.toBeInstanceOf(Crash);
    const dir = tmp();
    const temp = join(dir, `${snapshotName(9)}.tmp`);
    expect((await stat(temp)).size).toBeLessThan(next.data.length);
    const warnings: string[] = [];
    const opened = await SnapshotStore.open(dir, new IoCounters(), (m) => warnings.push(m));
    expect(opened.snapshot?.meta.index).toBe(5);
    expect(warnings).toEqual([]);
    expect(await readdir(dir)).toEqual([snapshotName(5)]);
  });

  it('a crash once saved leaves the new snapshot whole', async () => {
    const { store } = await storeCrashingAt('saved');
    await expect(store.save(snap(9))).rejects.toBeInstanceOf(Crash);
    const opened = await SnapshotStore.open(tmp(), new IoCounters(), () => {});
    expect(opened.snapshot?.meta.index).toBe(9);
  });
});
