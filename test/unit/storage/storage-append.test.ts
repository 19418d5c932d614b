/**
 * The storage-append benchmark's functions work and count what they claim (tiny sizes: the figures
 * themselves come from `npm run bench`).
 */
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { measureAppend, measureBareFsync } from '../../bench/storage-append.js';
import { useTempDir } from '../../support/temp-dir.js';

const tmp = useTempDir('meshdesk-bench-');

describe('storage-append benchmark', () => {
  it('measureAppend: one fdatasync per batch', async () => {
    const figures = await measureAppend({
      dir: join(tmp(), 'node'),
      batches: 20,
      entriesPerBatch: 8,
      entryBytes: 100,
    });
    expect(figures.fsyncs).toBe(20);
    expect(figures.batchesPerSec).toBeGreaterThan(0);
    expect(figures.entriesPerSec).toBeCloseTo(figures.batchesPerSec * 8);
    // A second run appends after the first.
    expect(
      (await measureAppend({ dir: join(tmp(), 'node'), batches: 5, entriesPerBatch: 2, entryBytes: 10 }))
        .fsyncs,
    ).toBe(5);
  });

  it('measureBareFsync: one write and one fdatasync per batch', async () => {
    const figures = await measureBareFsync({ dir: join(tmp(), 'bare'), batches: 20, bytesPerBatch: 800 });
    expect(figures.fsyncs).toBe(20);
    expect(figures.batchesPerSec).toBeGreaterThan(0);
  });
});
