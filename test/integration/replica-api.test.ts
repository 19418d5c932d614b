/**
 * The replica's promises, with real nodes in this process (real sockets on 127.0.0.1, real files):
 * read-your-writes through a follower, group commit, linearizable reads, snapshots and the typed
 * errors of the write path.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createNode, type ControllerNode } from '../../core/node.js';
import { ReplicaError } from '../../core/replication/errors.js';
import { freePort } from '../support/kv-cluster.js';
import { encodeKv, KvStateMachine } from '../support/kv-state-machine.js';
import { testCredentials } from '../support/test-pki.js';
import { waitFor } from '../support/wait.js';

interface Member {
  node: ControllerNode;
  sm: KvStateMachine;
}

let dirs: string[] = [];
let members: Member[] = [];

afterEach(async () => {
  await Promise.all(members.map((m) => m.node.stop()));
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  members = [];
  dirs = [];
});

async function startCluster(n: number, replica: Record<string, number> = {}): Promise<Member[]> {
  const ports = await Promise.all(Array.from({ length: n }, () => freePort()));
  const initial = ports.map((port, i) => ({ id: `m${i}`, address: `127.0.0.1:${port}` }));
  const root = await mkdtemp(join(tmpdir(), 'meshdesk-replica-'));
  dirs.push(root);
  members = await Promise.all(
    initial.map(async (m, i) => {
      const sm = new KvStateMachine();
      const node = await createNode({
        dataDir: join(root, m.id),
        nodeId: m.id,
        cluster: { host: '127.0.0.1', port: ports[i] as number },
        credentials: testCredentials,
        bootstrap: { clusterId: 'test', members: initial },
        stateMachine: sm,
        logger: pino({ level: 'silent' }),
        replica,
      });
      return { node, sm };
    }),
  );
  await waitFor(() => leaderOf(members) !== undefined, 'a leader', 15_000);
  return members;
}

function leaderOf(ms: Member[]): Member | undefined {
  return ms.find((m) => m.node.replica.status().role === 'leader');
}

function put(key: string, value: string): Uint8Array {
  return encodeKv({ op: 'put', key, value });
}

describe('the replica', () => {
  it('answers a write taken by a follower only once it has applied there (read-your-writes)', async () => {
    const ms = await startCluster(3);
    const follower = ms.find((m) => m !== leaderOf(ms)) as Member;
    const { index, result } = await follower.node.replica.propose(put('k', 'v1'));
    expect(result).toEqual({ version: 1 });
    expect(follower.node.replica.appliedIndex()).toBeGreaterThanOrEqual(index);
    expect(follower.sm.get('k')).toBe('v1');
  });

  it('commits proposals that arrive while a batch is being persisted in the next batch (group commit)', async () => {
    const ms = await startCluster(3);
    const leader = leaderOf(ms) as Member;
    const before = leader.node.replica.status();
    const results = await Promise.all(
      Array.from({ length: 500 }, (_, i) => leader.node.replica.propose(put(`g${i}`, 'x'))),
    );
    const after = leader.node.replica.status();
    expect(new Set(results.map((r) => r.index)).size).toBe(500);
    // Far fewer durable batches than proposals: they were grouped.
    expect(after.fsyncs - before.fsyncs).toBeLessThan(100);
  });

  it('serves a linearizable read through the leader at an index that covers every acknowledged write', async () => {
    const ms = await startCluster(3);
    const leader = leaderOf(ms) as Member;
    const follower = ms.find((m) => m !== leader) as Member;
    const { index } = await leader.node.replica.propose(put('r', 'new'));
    const read = await follower.node.replica.read('linearizable');
    expect(read.index).toBeGreaterThanOrEqual(index);
    expect(follower.sm.get('r')).toBe('new');
    expect((await follower.node.replica.read('local')).index).toBe(follower.node.replica.appliedIndex());
  });

  it('refuses writes with NO_LEADER (never proposed) when the quorum is gone', async () => {
    const ms = await startCluster(3, { proposalTimeoutMs: 1_000 });
    const leader = leaderOf(ms) as Member;
    const others = ms.filter((m) => m !== leader);
    for (const m of others)
      for (const peer of ms) if (peer !== m) m.node.transport.setFaults(peer.node.id, { cut: true });
    for (const m of others) leader.node.transport.setFaults(m.node.id, { cut: true });
    // The leader steps down within an election timeout (check-quorum); then nobody leads.
    await waitFor(
      () => leader.node.replica.status().role !== 'leader',
      'the isolated leader to step down',
      5_000,
    );
    const err = await leader.node.replica.propose(put('x', 'y')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReplicaError);
    expect(err).toMatchObject({ code: 'NO_LEADER', outcome: 'not-proposed' });
  });

  it('fails a write whose entry a new leader overwrote with PROPOSAL_DROPPED', async () => {
    const ms = await startCluster(3, { proposalTimeoutMs: 10_000 });
    const old = leaderOf(ms) as Member;
    const others = ms.filter((m) => m !== old);
    for (const m of others) {
      old.node.transport.setFaults(m.node.id, { cut: true });
      m.node.transport.setFaults(old.node.id, { cut: true });
    }
    const lost = old.node.replica.propose(put('lost', 'x')).catch((e: unknown) => e);
    await waitFor(
      () => others.some((m) => m.node.replica.status().role === 'leader'),
      'a new leader',
      10_000,
    );
    const next = others.find((m) => m.node.replica.status().role === 'leader') as Member;
    await next.node.replica.propose(put('kept', 'y'));
    for (const m of others) {
      old.node.transport.setFaults(m.node.id, undefined);
      m.node.transport.setFaults(old.node.id, undefined);
    }
    expect(await lost).toMatchObject({ code: 'PROPOSAL_DROPPED', outcome: 'not-applied' });
    await waitFor(() => old.sm.get('kept') === 'y', 'the old leader to catch up');
    expect(old.sm.get('lost')).toBeUndefined();
  });

  it('snapshots every N entries, compacts the log, and restores the state machine from it on restart', async () => {
    const ms = await startCluster(1, { snapshotEvery: 50, trailingEntries: 5 });
    const only = ms[0] as Member;
    for (let i = 0; i < 120; i++) await only.node.replica.propose(put(`s${i}`, `${i}`));
    const status = only.node.replica.status();
    expect(status.snapshotIndex).toBeGreaterThanOrEqual(100);
    expect(status.firstIndex).toBeGreaterThan(status.snapshotIndex - 10);
    const dataDir = join(dirs[0] as string, 'm0');
    const port = Number(only.node.advertise.split(':')[1]);
    await only.node.stop();
    members = [];
    const sm = new KvStateMachine();
    const node = await createNode({
      dataDir,
      cluster: { host: '127.0.0.1', port },
      credentials: testCredentials,
      stateMachine: sm,
      logger: pino({ level: 'silent' }),
    });
    members = [{ node, sm }];
    await waitFor(() => node.replica.status().role === 'leader', 'the restarted node to lead');
    await node.replica.waitForIndex(status.applied);
    expect(sm.get('s119')).toBe('119');
    expect(sm.data.size).toBe(120);
  });

  it('has a leader snapshot right after it sent heartbeats, so the stall fits in an election timeout', async () => {
    const ms = await startCluster(3, { snapshotEvery: 20, trailingEntries: 5 });
    const leader = leaderOf(ms) as Member;
    // What the leader's transport sent, and when the state machine was serialised, in order.
    const trace: string[] = [];
    const transport = leader.node.transport;
    const send = transport.send.bind(transport);
    transport.send = (messages) => {
      if (messages.length > 0) trace.push(messages.some((m) => m.type === 'heartbeat') ? 'H' : '-');
      send(messages);
    };
    const snapshot = leader.sm.snapshot.bind(leader.sm);
    leader.sm.snapshot = () => {
      trace.push('S');
      return snapshot();
    };
    // Snapshots wait for a heartbeat turn, so how many proposals that takes depends on the
    // machine's speed: write until three snapshots were taken (bounded in count).
    const snapshotsTaken = () => trace.filter((t) => t === 'S').length;
    for (let i = 0; i < 5_000 && snapshotsTaken() < 3; i++)
      await leader.node.replica.propose(put(`s${i}`, 'x'));
    const snapshots = trace.flatMap((t, i) => (t === 'S' ? [i] : []));
    expect(snapshots.length).toBeGreaterThanOrEqual(3);
    for (const i of snapshots)
      expect(trace[i - 1], trace.slice(Math.max(0, i - 5), i + 1).join('')).toBe('H');
  });

  it('emits role, leader and applied events', async () => {
    const ms = await startCluster(1);
    const replica = (ms[0] as Member).node.replica;
    const applied: number[] = [];
    replica.on('applied', ({ index }) => applied.push(index));
    const { index } = await replica.propose(put('e', '1'));
    expect(applied).toContain(index);
    expect(replica.status()).toMatchObject({ role: 'leader', leader: replica.id });
  });
});
