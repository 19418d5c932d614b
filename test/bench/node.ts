/**
 * `npm run bench -- node`: the running node. Three node processes on 127.0.0.1 with the key-value
 * state machine; a closed-loop write load of 1, 16 and 64 proposers runs inside the leader (so
 * the figure is the replica's path, not an HTTP client's); committed proposals per second, p50 and
 * p99 latency, and fsyncs per second on the leader. Then the storage append path against a bare
 * write + fdatasync loop on the same disk, in the same run (target: at least 80%).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KvCluster } from '../support/kv-cluster.js';
import { waitFor } from '../support/wait.js';
import { figure, ratios, repeat, type BenchOptions, type Figure } from './stats.js';
import { appendBatchBytes, measureAppend, measureBareFsync } from './storage-append.js';

interface LoadResult {
  count: number;
  elapsedMs: number;
  p50Ms: number;
  p99Ms: number;
  fsyncs: number;
}

const PROPOSERS = [1, 16, 64];

export async function runNode(options: BenchOptions): Promise<Figure[]> {
  const figures: Figure[] = [];
  const loadMs = options.quick ? 200 : 2_000;
  const cluster = await KvCluster.start({ nodes: 3, snapshotEvery: 20_000, trailingEntries: 2_000 });
  try {
    let leader: number | undefined;
    await waitFor(async () => (leader = await cluster.leader()) !== undefined, 'a leader', 20_000);
    for (const proposers of PROPOSERS) {
      const runs = await repeat(async () => {
        const res = await fetch(`${cluster.url(leader as number)}/load?proposers=${proposers}&ms=${loadMs}`, {
          method: 'POST',
        });
        if (!res.ok) throw new Error(`load run failed: ${res.status} ${await res.text()}`);
        return (await res.json()) as LoadResult;
      }, options);
      const context = { nodes: 3, proposers, valueBytes: 150 };
      figures.push(
        figure(
          'node',
          'committed_proposals',
          'proposals/s',
          runs.map((r) => (r.count * 1000) / r.elapsedMs),
          context,
        ),
        figure(
          'node',
          'latency_p50',
          'ms',
          runs.map((r) => r.p50Ms),
          context,
        ),
        figure(
          'node',
          'latency_p99',
          'ms',
          runs.map((r) => r.p99Ms),
          context,
        ),
        figure(
          'node',
          'leader_fsyncs',
          'fsyncs/s',
          runs.map((r) => (r.fsyncs * 1000) / r.elapsedMs),
          context,
        ),
      );
    }
  } finally {
    await cluster.stop();
  }
  figures.push(...(await appendAgainstBareFsync(options)));
  return figures;
}

/** Our append path and a bare write + fdatasync loop, alternating run by run on the same disk. */
async function appendAgainstBareFsync(options: BenchOptions): Promise<Figure[]> {
  const dir = await mkdtemp(join(tmpdir(), 'meshdesk-bench-append-'));
  const batches = options.quick ? 50 : 500;
  const entriesPerBatch = 16;
  const entryBytes = 200;
  try {
    let run = 0;
    const pairs = await repeat(async () => {
      run++;
      const ours = await measureAppend({
        dir: join(dir, `ours-${run}`),
        batches,
        entriesPerBatch,
        entryBytes,
      });
      const bare = await measureBareFsync({
        dir: join(dir, `bare-${run}`),
        batches,
        bytesPerBatch: appendBatchBytes(entriesPerBatch, entryBytes),
      });
      return { ours: ours.batchesPerSec, bare: bare.batchesPerSec };
    }, options);
    const context = { entriesPerBatch, entryBytes };
    const ours = pairs.map((p) => p.ours);
    const bare = pairs.map((p) => p.bare);
    return [
      figure('node', 'append_batches', 'batches/s', ours, context),
      figure('node', 'bare_fdatasync_batches', 'batches/s', bare, context),
      figure('node', 'append_vs_bare_fdatasync', 'ratio', ratios(ours, bare), context),
    ];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
