/**
 * A 3-member etcd on 127.0.0.1 (Debian's etcd-server), the peer the API benchmark measures
 * against in the same run, through etcd's JSON gateway (`/v3/kv/put`, `/v3/kv/range`).
 * Default timing (heartbeat 100 ms, election 1000 ms), as a user would run it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../support/kv-cluster.js';
import { waitFor } from '../support/wait.js';

const ETCD = '/usr/bin/etcd';

export function etcdInstalled(): boolean {
  return spawnSync(ETCD, ['--version']).status === 0;
}

interface Member {
  readonly name: string;
  readonly clientUrl: string;
  readonly peerUrl: string;
  readonly dataDir: string;
  proc: ChildProcess | undefined;
}

export class EtcdCluster {
  private constructor(
    private readonly root: string,
    private readonly members: Member[],
  ) {}

  static async start(size = 3): Promise<EtcdCluster> {
    const root = await mkdtemp(join(tmpdir(), 'meshdesk-bench-etcd-'));
    const members: Member[] = [];
    for (let i = 0; i < size; i++) {
      members.push({
        name: `e${i}`,
        clientUrl: `http://127.0.0.1:${await freePort()}`,
        peerUrl: `http://127.0.0.1:${await freePort()}`,
        dataDir: join(root, `e${i}`),
        proc: undefined,
      });
    }
    const cluster = new EtcdCluster(root, members);
    for (const m of members) cluster.launch(m);
    await cluster.waitHealthy();
    return cluster;
  }

  get urls(): string[] {
    return this.members.map((m) => m.clientUrl);
  }

  private launch(m: Member): void {
    const initial = this.members.map((x) => `${x.name}=${x.peerUrl}`).join(',');
    m.proc = spawn(
      ETCD,
      [
        '--name',
        m.name,
        '--data-dir',
        m.dataDir,
        '--listen-client-urls',
        m.clientUrl,
        '--advertise-client-urls',
        m.clientUrl,
        '--listen-peer-urls',
        m.peerUrl,
        '--initial-advertise-peer-urls',
        m.peerUrl,
        '--initial-cluster',
        initial,
        '--initial-cluster-state',
        'new',
        '--initial-cluster-token',
        'meshdesk-bench',
        '--log-level',
        'error',
      ],
      { stdio: 'ignore' },
    );
  }

  async waitHealthy(): Promise<void> {
    await waitFor(async () => (await this.leaderIndex()) !== undefined, 'an etcd leader', 30_000, 50);
  }

  /** The index of the member that leads, as its own status says. */
  async leaderIndex(): Promise<number | undefined> {
    for (const [i, m] of this.members.entries()) {
      if (!m.proc || m.proc.exitCode !== null || m.proc.signalCode !== null) continue;
      try {
        const res = await fetch(`${m.clientUrl}/v3/maintenance/status`, { method: 'POST', body: '{}' });
        const body = (await res.json()) as { leader?: string; header?: { member_id?: string } };
        if (body.leader && body.leader !== '0' && body.leader === body.header?.member_id) return i;
      } catch {
        // not up yet
      }
    }
    return undefined;
  }

  async kill(i: number): Promise<void> {
    const proc = this.members[i]?.proc;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGKILL');
    await exited;
  }

  /** Starts a killed member again on its data (it rejoins the cluster it was in). */
  async restart(i: number): Promise<void> {
    const m = this.members[i];
    if (!m) return;
    this.launch(m);
    await waitFor(
      async () => {
        try {
          return (await fetch(`${m.clientUrl}/health`)).ok;
        } catch {
          return false;
        }
      },
      `etcd member ${m.name} back`,
      30_000,
      50,
    );
  }

  async stop(): Promise<void> {
    for (let i = 0; i < this.members.length; i++) await this.kill(i);
    await rm(this.root, { recursive: true, force: true });
  }
}
