/**
 * `npm run bench -- node`: the running node. Three node processes on 127.0.0.1 with the key-value
 * state machine; a closed-loop write load of 1, 16 and 64 proposers runs inside the leader (so
 * the figure is the replica's path, not an HTTP client's); committed proposals per second, p50 and
 * p99 latency, and fsyncs per second on the leader — on the product's mutual-TLS transport and,
 * run by run in turn, on a second cluster with the benchmark-only plaintext transport, so that what
 * TLS costs is a ratio of one run (target: at most 10 % of proposals/s and 0.3 ms of p50). Then
 * the storage append path against a bare write + fdatasync loop on the same disk, in the same run
 * (target: at least 80%).
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
  const settings = { nodes: 3, snapshotEvery: 20_000, trailingEntries: 2_000 };
  // The product's transport (mutual TLS) and the plaintext one it replaced, run by run in turn.
  const tls = await KvCluster.start(settings);
  const plain = await KvCluster.start({ ...settings, plaintext: true });
  try {
    const leaders = await Promise.all([tls, plain].map(leaderOf));
    for (const proposers of PROPOSERS) {
      const pairs = await repeat(async () => {
        const withTls = await load(tls, leaders[0] as number, proposers, loadMs);
        const without = await load(plain, leaders[1] as number, proposers, loadMs);
        return { withTls, without };
      }, options);
      const context = { nodes: 3, proposers, valueBytes: 150 };
      const add = (metric: string, unit: string, values: number[]) =>
        figures.push(figure('node', metric, unit, values, context));
      const perSecond = (r: LoadResult) => (r.count * 1000) / r.elapsedMs;
      const runs = pairs.map((p) => p.withTls);
      const baseline = pairs.map((p) => p.without);
      add('committed_proposals', 'proposals/s', runs.map(perSecond));
      add(
        'latency_p50',
        'ms',
        runs.map((r) => r.p50Ms),
      );
      add(
        'latency_p99',
        'ms',
        runs.map((r) => r.p99Ms),
      );
      add(
        'leader_fsyncs',
        'fsyncs/s',
        runs.map((r) => (r.fsyncs * 1000) / r.elapsedMs),
      );
      add('plaintext_committed_proposals', 'proposals/s', baseline.map(perSecond));
      add(
        'plaintext_latency_p50',
        'ms',
        baseline.map((r) => r.p50Ms),
      );
      add('tls_vs_plaintext_proposals', 'ratio', ratios(runs.map(perSecond), baseline.map(perSecond)));
      add(
        'tls_added_latency_p50',
        'ms',
        pairs.map((p) => p.withTls.p50Ms - p.without.p50Ms),
      );
    }
  } finally {
    await Promise.all([tls.stop(), plain.stop()]);
  }
  figures.push(...(await appendAgainstBareFsync(options)));
  return figures;
}

async function leaderOf(cluster: KvCluster): Promise<number> {
  let leader: number | undefined;
  await waitFor(async () => (leader = await cluster.leader()) !== undefined, 'a leader', 20_000);
  return leader as number;
}

/** A closed-loop write load run inside the leader (no HTTP per write). */
async function load(cluster: KvCluster, leader: number, proposers: number, ms: number): Promise<LoadResult> {
  const res = await fetch(`${cluster.url(leader)}/load?proposers=${proposers}&ms=${ms}`, { method: 'POST' });
  if (!res.ok) throw new Error(`load run failed: ${res.status} ${await res.text()}`);
  return (await res.json()) as LoadResult;
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
