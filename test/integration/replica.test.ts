/**
 * Real node processes on 127.0.0.1: elections, kill -9, restarts, snapshots, damaged logs and
 * certificates. Every acknowledged write must survive whatever is done to the processes.
 */
import { appendFile, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadCredentials, saveCredentials } from '../../core/cluster/credentials.js';
import { createClusterCa } from '../../core/pki/ca.js';
import { testTls } from '../support/test-pki.js';
import { KvCluster } from '../support/kv-cluster.js';
import { waitFor } from '../support/wait.js';

let cluster: KvCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

async function leaderOf(c: KvCluster, what = 'a leader'): Promise<number> {
  let leader: number | undefined;
  await waitFor(async () => (leader = await c.leader()) !== undefined, what, 20_000);
  return leader as number;
}

/** Writes `count` keys through `nodes` in turn, retrying refusals (503/429) and recording acks. */
async function writeKeys(
  c: KvCluster,
  nodes: number[],
  prefix: string,
  count: number,
  acked: Map<string, string>,
): Promise<void> {
  for (let k = 0; k < count; k++) {
    const key = `${prefix}-${k}`;
    const value = `v${k}`;
    for (let attempt = 0; ; attempt++) {
      const node = nodes[(k + attempt) % nodes.length] as number;
      const res = await c.put(node, key, value).catch(() => undefined);
      if (res?.status === 200) {
        acked.set(key, value);
        break;
      }
      if (attempt > 50) throw new Error(`write ${key} kept failing: ${JSON.stringify(res?.body)}`);
      await new Promise((resolve) => setTimeout(resolve, 50)); // back off before retrying a refused write
    }
  }
}

/**
 * Every node has applied a fresh write made now (so everything committed before it) and holds the
 * same data, which contains every acknowledged write. Agreement alone is not enough: right after a
 * restart all nodes agree on an old commit index until the new leader commits in its term.
 */
async function expectConverged(c: KvCluster, nodes: number[], acked: Map<string, string>): Promise<void> {
  const barrier = new Map<string, string>();
  await writeKeys(c, nodes, `barrier-${Date.now()}`, 1, barrier);
  const [barrierKey] = [...barrier.keys()];
  let snapshots: Record<string, string>[] = [];
  await waitFor(
    async () => {
      snapshots = await Promise.all(nodes.map(async (i) => (await c.data(i)).data));
      return (
        snapshots.every((d) => barrierKey !== undefined && d[barrierKey] !== undefined) &&
        snapshots.every((d) => JSON.stringify(d) === JSON.stringify(snapshots[0]))
      );
    },
    `nodes ${nodes.join(', ')} to apply a fresh write and agree`,
    30_000,
  );
  const missing = [...acked].filter(([key, value]) => snapshots[0]?.[key] !== value);
  if (missing.length > 0) {
    const statuses = await Promise.all(nodes.map((i) => c.status(i)));
    const summary = statuses.map((s) => `${s.role} t${s.term} commit ${s.commit} applied ${s.applied}`);
    throw new Error(
      `acknowledged writes missing: ${JSON.stringify(missing.slice(0, 5))}; nodes: ${summary.join('; ')}`,
    );
  }
}

describe('a 3-node cluster of real processes', () => {
  it('elects a leader, keeps writing through a kill -9 of the leader, and catches the old leader up', async () => {
    const c = (cluster = await KvCluster.start({ nodes: 3 }));
    await leaderOf(c);
    const acked = new Map<string, string>();
    await Promise.all([0, 1, 2].map((client) => writeKeys(c, [client], `before-c${client}`, 20, acked)));

    const old = await leaderOf(c);
    const oldTerm = (await c.status(old)).term;
    await c.kill(old);
    const survivors = [0, 1, 2].filter((i) => i !== old);
    const next = await leaderOf(c, 'a new leader');
    expect(survivors).toContain(next);
    expect((await c.status(next)).term).toBeGreaterThan(oldTerm);
    await Promise.all(survivors.map((client) => writeKeys(c, [client], `after-c${client}`, 20, acked)));

    await c.startNode(old);
    await expectConverged(c, [0, 1, 2], acked);
    expect(acked.size).toBe(100);
    // Reads: a linearizable read on any node sees the last acknowledged write.
    await writeKeys(c, [next], 'last', 1, acked);
    for (const i of [0, 1, 2]) expect((await c.get(i, 'last-0', 'linearizable')).value).toBe('v0');
  }, 120_000);

  it('brings a node far behind the compaction point up to date with a snapshot', async () => {
    const c = (cluster = await KvCluster.start({ nodes: 3, snapshotEvery: 40, trailingEntries: 5 }));
    await leaderOf(c);
    await c.kill(2);
    const acked = new Map<string, string>();
    await writeKeys(c, [0, 1], 'bulk', 200, acked);
    const leader = await leaderOf(c);
    // A leader snapshots at its next heartbeat (within 100 ms), not in the middle of a burst.
    await waitFor(
      async () => (await c.status(leader)).snapshotIndex >= 160,
      'the leader to snapshot past index 160',
      5_000,
    );
    await c.startNode(2);
    await expectConverged(c, [0, 1, 2], acked);
    expect((await c.status(2)).snapshotsInstalled).toBeGreaterThanOrEqual(1);
  }, 120_000);

  it('cuts a torn tail on restart, and refuses to start on damage in the middle of an older segment', async () => {
    const c = (cluster = await KvCluster.start({ nodes: 3, segmentBytes: 4096 }));
    await leaderOf(c);
    const acked = new Map<string, string>();
    await writeKeys(c, [0], 'seg', 150, acked);
    await expectConverged(c, [0, 1, 2], acked);
    const follower = ((await leaderOf(c)) + 1) % 3;
    const walDir = join(c.nodes[follower]!.config.dataDir, 'raft', 'wal');
    await c.kill(follower);

    const segments = (await readdir(walDir)).sort();
    expect(segments.length).toBeGreaterThan(2);
    // A write the crash interrupted: the start of a record that never completed (so it was never
    // acknowledged). Cutting synced, acknowledged bytes instead would model a disk that lies.
    const newest = join(walDir, segments[segments.length - 1] as string);
    await appendFile(newest, Buffer.from([0x00, 0x00, 0x01, 0x2c, 0xde, 0xad, 0xbe, 0xef, 0x01]));
    await c.startNode(follower);
    expect(c.nodes[follower]!.stderr).toMatch(/torn|cut|truncat/i);
    await writeKeys(c, [0], 'after-tear', 5, acked);
    await expectConverged(c, [0, 1, 2], acked);

    await c.kill(follower);
    const older = join(walDir, (await readdir(walDir)).sort()[0] as string);
    const bytes = await readFile(older);
    const middle = Math.floor(bytes.length / 2);
    bytes[middle] = (bytes[middle] as number) ^ 0xff;
    await writeFile(older, bytes);
    await expect(c.startNode(follower)).rejects.toThrow(new RegExp(segments[0]!.replace('.', '\\.')));
    expect(c.nodes[follower]!.exitCode).not.toBe(0);
  }, 120_000);

  it('refuses a peer whose certificate another CA issued', async () => {
    const c = (cluster = await KvCluster.start({ nodes: 3 }));
    await leaderOf(c);
    // A process that trusts this cluster's CA, with the same cluster id, but a certificate from
    // a CA of its own: it reaches the real nodes' listeners, which must refuse it.
    const intruder = await KvCluster.start({ nodes: 1 });
    try {
      await intruder.kill(0);
      const members = c.nodes.map((n) => ({
        id: n.config.nodeId,
        address: `127.0.0.1:${n.config.clusterPort}`,
      }));
      const dataDir = `${intruder.nodes[0]!.config.dataDir}-2`;
      const own = await testTls('it-cluster', 'intruder', { ca: await createClusterCa('it-cluster') });
      const realCa = (await loadCredentials(c.nodes[0]!.config.dataDir))!.ca;
      await saveCredentials(dataDir, { ...own, ca: realCa });
      await intruder.startNode(0, { nodeId: 'intruder', members, dataDir });
      await waitFor(async () => {
        const refusals = ((await c.status(0)).transport as { refusals: Record<string, number> }).refusals;
        return (refusals.UNTRUSTED_CERTIFICATE ?? 0) > 0;
      }, 'the real cluster to refuse the intruder’s certificate');
      const status = await c.status(0);
      expect((status.peers as { id: string }[]).map((p) => p.id)).not.toContain('intruder');
      expect((await intruder.status(0)).role).not.toBe('leader');
    } finally {
      await intruder.stop();
    }
  }, 60_000);
});

describe('a 5-node cluster of real processes', () => {
  it('loses no acknowledged write when every node is killed -9 during a write load', async () => {
    const c = (cluster = await KvCluster.start({ nodes: 5 }));
    await leaderOf(c);
    const acked = new Map<string, string>();
    let stopLoad = false;
    const clients = Array.from({ length: 8 }, async (_, client) => {
      for (let k = 0; !stopLoad && k < 10_000; k++) {
        const key = `load-c${client}-${k}`;
        const res = await c.put((client + k) % 5, key, `v${k}`).catch(() => undefined);
        if (res?.status === 200) acked.set(key, `v${k}`);
      }
    });
    await waitFor(() => acked.size >= 300, '300 acknowledged writes', 60_000);
    await Promise.all([0, 1, 2, 3, 4].map((i) => c.kill(i)));
    stopLoad = true;
    await Promise.all(clients);
    const ackedAtCrash = new Map(acked);

    await Promise.all([0, 1, 2, 3, 4].map((i) => c.startNode(i)));
    await leaderOf(c);
    await expectConverged(c, [0, 1, 2, 3, 4], ackedAtCrash);
  }, 180_000);
});
