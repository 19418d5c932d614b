/**
 * The `meshdesk` command as a user runs it (real processes): help and bad arguments, a bootstrapped
 * node and `cluster status` against it, backups through the API and from a stopped node's data
 * directory, and a new cluster restored from a backup with the old admins and model.
 */
import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, ControllerProcess } from '../support/controller-processes.js';
import { freePort } from '../support/kv-cluster.js';
import { useTempDir } from '../support/temp-dir.js';

const BIN = new URL('../../bin/meshdesk.js', import.meta.url).pathname;
const run = promisify(execFile);

interface Outcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function meshdesk(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<Outcome> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], {
      env: { ...process.env, MESHDESK_ADMIN_PASSWORD: ADMIN_PASSWORD, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('meshdesk arguments', () => {
  it.each([
    [['--help'], 0],
    [['start', '--help'], 0],
    [['lab', '--help'], 0],
    [['cluster', '--help'], 0],
    [['backup', '--help'], 0],
    [['restore', '--help'], 0],
  ])('%j prints usage and exits %i', async (args, code) => {
    const outcome = await meshdesk(args);
    expect(outcome.code).toBe(code);
    expect(outcome.stdout).toMatch(/^usage: meshdesk/);
  });

  it.each([
    [[], /usage/],
    [['frobnicate'], /unknown command 'frobnicate'/],
    [['start', '--api', 'localhost'], /--api must be HOST:PORT, not 'localhost'/],
    [['start', '--bootstrap', '--join', 'http://127.0.0.1:1'], /--bootstrap and --join exclude each other/],
    [['start', '--join', 'ftp://x'], /--join must be an http\(s\) URL/],
    [['start', '--no-such-flag'], /Unknown option '--no-such-flag'/],
    [['lab', '--controllers', '9'], /--controllers must be a whole number from 1 to 7, not '9'/],
    [['lab', '--routers', '2'], /router agents are not available yet/],
    [['cluster', 'frob'], /unknown cluster command 'frob'/],
    [['cluster', 'add', '--id', 'x'], /cluster add needs --id ID and --address HOST:PORT/],
    [['backup'], /backup needs --out F/],
    [['backup', '--out', 'f', '--api', 'http://a:1', '--data-dir', 'd'], /one of --api URL or --data-dir D/],
    [['restore', '--data-dir', 'x'], /restore needs --from F/],
  ])('%j exits 2 with one line saying what is wrong', async (args, message) => {
    const outcome = await meshdesk(args);
    expect(outcome.code).toBe(2);
    const output = args.length === 0 ? outcome.stdout : outcome.stderr;
    expect(output).toMatch(message);
    if (args.length > 0) expect(outcome.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('exits 1 with one line when the node it should talk to is not there', async () => {
    const port = await freePort();
    const outcome = await meshdesk(['cluster', 'status', '--api', `http://127.0.0.1:${port}`]);
    expect(outcome.code).toBe(1);
    expect(outcome.stderr.trim()).toMatch(
      /^meshdesk cluster: cannot reach http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED$/,
    );
  });
});

describe('a node, its backups, and a cluster restored from one', () => {
  const dir = useTempDir();
  let nodes: ControllerProcess[] = [];
  afterEach(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    nodes = [];
  });

  const newNode = async (name: string): Promise<ControllerProcess> => {
    const node = new ControllerProcess(name, join(dir(), name), await freePort(), await freePort());
    nodes.push(node);
    return node;
  };

  it('bootstraps, reports status, backs up both ways, and restores into a new cluster', async () => {
    const generated = await newNode('gen');
    await generated.start(['--bootstrap'], { MESHDESK_ADMIN_PASSWORD: '' });
    expect(generated.stdout).toMatch(/first admin 'admin' created; password \(shown once/);
    for (const file of ['admin-password', 'cluster-secret']) {
      expect((await stat(join(generated.dataDir, file))).mode & 0o777).toBe(0o600);
    }
    await generated.stop();

    const node = await newNode('original');
    await node.start(['--bootstrap']);
    expect(node.stdout).not.toMatch(/first admin/);
    const status = await meshdesk(['cluster', 'status', '--api', node.url]);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/leader n[0-9a-f]+ {2}term \d+/);
    expect(status.stdout).toMatch(/original\s+127\.0\.0\.1:\d+\s+leader\s+yes/);

    const token = await login(node.url);
    const created = await fetch(`${node.url}/api/v1/identities`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'kept-in-backup', roleAttributes: ['x'] }),
    });
    expect(created.status).toBe(201);

    const online = join(dir(), 'online.sqlite');
    const viaApi = await meshdesk(['backup', '--out', online, '--api', node.url]);
    expect(viaApi.code).toBe(0);
    expect(viaApi.stdout).toMatch(/^backup of index \d+ written to/);
    expect((await stat(online)).mode & 0o777).toBe(0o600);

    await node.stop();
    const offline = join(dir(), 'offline.sqlite');
    const viaDir = await meshdesk(['backup', '--out', offline, '--data-dir', node.dataDir]);
    expect(viaDir.code).toBe(0);

    for (const backup of [online, offline]) {
      const restored = await newNode(`restored-${nodes.length}`);
      // restore keeps running, like start; the helper waits for its ready line.
      await restored.startWith(['restore', '--from', backup]);
      const restoredToken = await login(restored.url); // the old admin and password
      const list = await fetch(
        `${restored.url}/api/v1/identities?filter=${encodeURIComponent('name = "kept-in-backup"')}`,
        { headers: { authorization: `Bearer ${restoredToken}` } },
      );
      expect(((await list.json()) as { meta: { total: number } }).meta.total).toBe(1);
      const health = (await (await fetch(`${restored.url}/api/v1/health`)).json()) as { clusterId: string };
      expect(health.clusterId).not.toBe(generated.dataDir); // a new cluster
      await restored.stop();
    }

    const refused = await meshdesk(['restore', '--from', online, '--data-dir', node.dataDir]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/is not empty/);
    const garbage = join(dir(), 'offline.sqlite.tmp-not-there');
    const missing = await meshdesk(['restore', '--from', garbage, '--data-dir', join(dir(), 'empty')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/cannot read backup/);
  }, 180_000);
});

async function login(url: string): Promise<string> {
  const response = await fetch(`${url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { token: string }).token;
}
