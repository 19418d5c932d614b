/**
 * The LAN setup an admin who takes the defaults gets: nodes on their own hosts (network
 * namespaces, each with its own address) bind the cluster listener to 0.0.0.0 with no --advertise,
 * and each advertises the address its peers reach it at, so a second host joins and replicates.
 * A host with two addresses and no default route refuses to guess, in one line; given a default
 * route, it advertises that route's interface's address. Skipped, with the reason, where
 * namespaces cannot be made (not root, no iproute2).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterCaFile } from '../../core/cluster/credentials.js';
import { JepsenCluster } from '../jepsen/cluster.js';
import { HttpNode } from '../jepsen/http.js';
import { NetnsLan } from '../jepsen/netns.js';
import { captureOutput } from '../support/child-output.js';
import { ADMIN_PASSWORD } from '../support/controller-processes.js';

const run = promisify(execFile);
const BIN = new URL('../../bin/meshdesk.js', import.meta.url).pathname;
const unavailable = await NetnsLan.available();
if (unavailable !== undefined) console.log(`LAN advertise tests skipped: ${unavailable}`);

describe.skipIf(unavailable !== undefined)('a node bound to every interface on a LAN', () => {
  let lan: NetnsLan;
  let root: string;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'meshdesk-lan-'));
  });

  afterAll(async () => {
    await lan?.close();
    if (root) await rm(root, { recursive: true, force: true });
  });

  /** `meshdesk start` in host i's namespace; resolves with its exit code and output once it exits or says ready. */
  function startIn(
    i: number,
    dataDir: string,
  ): Promise<{ code: number | null; stdout: string; stderr: string; stop(): Promise<void> }> {
    const proc = lan.spawn(
      i,
      process.execPath,
      [
        BIN,
        'start',
        '--bootstrap',
        '--data-dir',
        dataDir,
        '--api',
        `${lan.address(i)}:8440`,
        '--cluster',
        '0.0.0.0:8441',
      ],
      {
        env: { ...process.env, MESHDESK_ADMIN_PASSWORD: ADMIN_PASSWORD, MESHDESK_LOG_LEVEL: 'warn' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const { stdout, stderr, exited } = captureOutput(proc);
    const stop = async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      await exited;
    };
    return new Promise((resolve) => {
      void exited.then((code) => resolve({ code, stdout: stdout(), stderr: stderr(), stop }));
      proc.stdout?.on('data', () => {
        if (/ready — UI at/.test(stdout())) resolve({ code: null, stdout: stdout(), stderr: stderr(), stop });
      });
    });
  }

  /** The cluster as host i's HTTPS API shows it, verified against the CA in its data directory. */
  async function membersOf(i: number, dataDir: string): Promise<{ address: string; apiUrl: string }[]> {
    const ca = await readFile(clusterCaFile(dataDir), 'utf8');
    const http = new HttpNode(lan.address(i), 8440, 10_000, { ca: () => ca });
    const login = await http.request('POST', '/api/v1/auth/login', {
      body: { username: 'admin', password: ADMIN_PASSWORD },
    });
    const { token } = login.json as { token: string };
    const view = await http.request('GET', '/api/v1/cluster', {
      headers: { authorization: `Bearer ${token}` },
    });
    return (view.json as { members: { address: string; apiUrl: string }[] }).members;
  }

  it('advertises each host’s own address, so a second host joins it and the two replicate', async () => {
    // A LAN of its own: the cluster closes it when it closes.
    const hosts = await NetnsLan.create(2);
    const cluster = await JepsenCluster.start({
      size: 2,
      host: hosts,
      adminPassword: ADMIN_PASSWORD,
      wildcardClusterBind: true,
    });
    try {
      const http = cluster.http[1] as HttpNode;
      const login = await http.request('POST', '/api/v1/auth/login', {
        body: { username: 'admin', password: ADMIN_PASSWORD },
        timeoutMs: 10_000,
      });
      const auth = { authorization: `Bearer ${(login.json as { token: string }).token}` };
      const view = await http.request('GET', '/api/v1/cluster', { headers: auth });
      const members = (view.json as { members: { name: string; address: string; reachable: boolean }[] })
        .members;
      expect(members.map((m) => [m.name, m.address]).sort()).toEqual([
        ['n0', `${hosts.address(0)}:8441`],
        ['n1', `${hosts.address(1)}:8441`],
      ]);
      // A write through the joined host commits through the first: they reach each other.
      const created = await http.request('POST', '/api/v1/identities', {
        headers: auth,
        body: { name: 'across-the-lan', type: 'User' },
        timeoutMs: 10_000,
      });
      expect(created.status).toBe(201);
    } finally {
      await cluster.close();
    }
  }, 120_000);

  it('refuses to guess between two addresses without a default route, and follows one once there is', async () => {
    lan = await NetnsLan.create(1);
    const host = 0;
    const ns = lan.namespace(host);
    const second = `${lan.subnet}.200`;
    await run('ip', ['-n', ns, 'addr', 'add', `${second}/24`, 'dev', 'eth0']);

    const refused = await startIn(host, join(root, 'ambiguous'));
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim().split('\n')).toEqual([
      `meshdesk start: cannot tell which address other members reach this node at: ${lan.address(host)} on eth0, ${second} on eth0, ` +
        'and no default route picks one; pass --advertise HOST:PORT (MESHDESK_ADVERTISE for the desktop app)',
    ]);

    await run('ip', ['-n', ns, 'route', 'add', 'default', 'via', lan.runnerAddress, 'dev', 'eth0']);
    const dataDir = join(root, 'routed');
    const started = await startIn(host, dataDir);
    try {
      expect(started.code, started.stderr).toBe(null);
      const members = await membersOf(host, dataDir);
      // The interface's primary address: the one it had first.
      expect(members.map((m) => [m.address, m.apiUrl])).toEqual([
        [`${lan.address(host)}:8441`, `https://${lan.address(host)}:8440`],
      ]);
    } finally {
      await started.stop();
    }
  }, 120_000);
});
