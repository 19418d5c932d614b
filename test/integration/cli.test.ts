/**
 * The `meshdesk` command as a user runs it (real processes): help and bad arguments, a bootstrapped
 * node and `cluster status` against it, backups through the API and from a stopped node's data
 * directory, and a new cluster restored from a backup with the old admins and model.
 */
import { execFile } from 'node:child_process';
import { readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../core/cli.js';
import { parseJoinToken } from '../../core/cluster/join-token.js';
import { ADMIN_PASSWORD, ControllerProcess } from '../support/controller-processes.js';
import { freePort } from '../support/kv-cluster.js';
import { useTempDir } from '../support/temp-dir.js';
import { meshdesk, type Outcome } from '../support/meshdesk-bin.js';

/** A file that exists: `backup --out` must refuse it without --force (before reading anything). */
const PACKAGE_JSON = new URL('../../package.json', import.meta.url).pathname;
const run = promisify(execFile);

/** The command in this process (the same code path as the binary), its lines captured. */
async function inProcess(args: readonly string[]): Promise<Outcome> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(
    args,
    { ...process.env, MESHDESK_ADMIN_PASSWORD: ADMIN_PASSWORD },
    {
      out: (line) => out.push(line),
      err: (line) => err.push(line),
    },
  );
  return { code, stdout: out.map((l) => `${l}\n`).join(''), stderr: err.map((l) => `${l}\n`).join('') };
}

describe('the meshdesk binary', () => {
  it('prints its usage for --help and exits 0', async () => {
    const outcome = await meshdesk(['--help']);
    expect(outcome.code).toBe(0);
    expect(outcome.stdout).toMatch(/^usage: meshdesk <command>/);
  });

  it('exits 2 with one line on stderr for a bad argument', async () => {
    const outcome = await meshdesk(['start', '--api', 'localhost']);
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toBe(
      "meshdesk start: --api must be HOST:PORT, not 'localhost' (see meshdesk start --help)\n",
    );
  });
});

describe('meshdesk arguments', () => {
  it.each([['start'], ['lab'], ['cluster'], ['backup'], ['restore']])(
    '%s --help prints usage',
    async (command) => {
      const outcome = await inProcess([command, '--help']);
      expect(outcome.code).toBe(0);
      expect(outcome.stdout).toMatch(/^usage: meshdesk/);
    },
  );

  it.each([
    [[], /usage/],
    [['frobnicate'], /unknown command 'frobnicate'/],
    [['start', '--api', 'localhost'], /--api must be HOST:PORT, not 'localhost'/],
    [['start', '--bootstrap', '--join', 'mdjoin1.a.b'], /--bootstrap and --join exclude each other/],
    [['start', '--join', 'http://127.0.0.1:8440'], /--join: not a join token: it starts with mdjoin1\./],
    [['start', '--join', 'mdjoin1.abc'], /--join: the join token is damaged/],
    [['start', '--join-file', '/nonexistent/token'], /--join-file \/nonexistent\/token: ENOENT/],
    [['start', '--no-such-flag'], /Unknown option '--no-such-flag'/],
    [
      ['start', '--data-dir', '/no-such-meshdesk-dir', '--api', '127.0.0.1:0', '--cluster', '127.0.0.1:0'],
      /\/no-such-meshdesk-dir holds no node yet: pass --bootstrap to create a new cluster, or --join TOKEN/,
    ],
    [['start', '--secret', 'a-secret-of-enough-length'], /Unknown option '--secret'/],
    [['lab', '--controllers', '9'], /--controllers must be a whole number from 1 to 7, not '9'/],
    [['lab', 'extra'], /Unexpected argument 'extra'/],
    [['cluster', 'frob'], /unknown cluster command 'frob'/],
    [['cluster', 'add', '--id', 'x'], /cluster add needs --id ID and --address HOST:PORT/],
    [['cluster', 'add', '--id', 'x', '--address', 'nope'], /--address must be HOST:PORT/],
    [['cluster', 'remove'], /cluster remove needs the member id/],
    [
      ['cluster', 'invite', '--expires', '8d'],
      /--expires must be a duration such as 30m, 12h or 2d, at most 7d; not '8d'/,
    ],
    [['cluster', 'revoke-invite'], /cluster revoke-invite needs the invitation id/],
    [['cluster', 'status', '--finish'], /--finish goes with rotate-ca only/],
    [
      ['cluster', 'rotate-ca', '--new-root', '--finish'],
      /--new-root goes with rotate-ca only, without --finish/,
    ],
    [['cluster', 'status', '--api', 'not a url'], /--api must be a URL/],
    [
      ['cluster', 'status', '--password', 'hunter2'],
      /--password would show the secret to every local user \(ps\); pass --password-file FILE or MESHDESK_ADMIN_PASSWORD/,
    ],
    [
      ['cluster', 'members', '--token', 'a.b.c'],
      /--token would show the secret .*--token-file FILE or MESHDESK_TOKEN/,
    ],
    [
      ['cluster', 'status', '--password-file', '/nonexistent/pw'],
      /--password-file \/nonexistent\/pw: ENOENT/,
    ],
    [
      ['backup', '--out', 'f', '--api', 'http://127.0.0.1:1', '--password', 'x'],
      /--password would show the secret/,
    ],
    [
      ['router', '--name', 'r1', '--controllers', '127.0.0.1:1', '--secret-file', '/tmp/s'],
      /--name is gone: routers have no shared secret any more; enroll the router \('meshdesk router enroll TOKEN --out router\.json'\) and run it with --identity router\.json/,
    ],
    [['router', '--secret', 'a-secret-of-enough-length'], /--secret is gone: routers have no shared secret/],
    [
      ['router', '--controllers', '127.0.0.1:1'],
      /--identity FILE is required: the router's identity from 'meshdesk router enroll/,
    ],
    [['router', '--identity', '/nonexistent/router.json'], /--identity: .*\/nonexistent\/router\.json/],
    [['cluster', 'router-secret'], /unknown cluster command 'router-secret'/],
    [['backup'], /backup needs --out F/],
    [
      ['backup', '--out', tmpdir(), '--data-dir', 'd'],
      /--out: \/tmp is a directory; name the file to write, e\.g\. \/tmp\/meshdesk-backup\.sqlite/,
    ],
    [
      ['backup', '--out', '/no-such-folder/b.sqlite', '--data-dir', 'd'],
      /--out: the folder \/no-such-folder does not exist/,
    ],
    [
      ['backup', '--out', PACKAGE_JSON, '--data-dir', 'd'],
      /--out: .*package\.json exists; pass --force to overwrite it/,
    ],
    [['backup', '--out', 'f', '--api', 'http://a:1', '--data-dir', 'd'], /one of --api URL or --data-dir D/],
    [['restore', '--data-dir', 'x'], /restore needs --from F/],
    [['restore', '--from', 'f', '--bootstrap'], /--bootstrap and --join do not apply/],
  ])('%j exits 2 with one line saying what is wrong', async (args, message) => {
    const outcome = await inProcess(args);
    expect(outcome.code).toBe(2);
    const output = args.length === 0 ? outcome.stdout : outcome.stderr;
    expect(output).toMatch(message);
    if (args.length > 0) expect(outcome.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('exits 1 with one line when the node it should talk to is not there', async () => {
    const port = await freePort();
    const outcome = await inProcess(['cluster', 'status', '--api', `http://127.0.0.1:${port}`]);
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
    expect((await stat(join(generated.dataDir, 'admin-password'))).mode & 0o777).toBe(0o600);
    // No shared secret on disk: controllers trust certificates, and routers' secret is model data.
    await expect(stat(join(generated.dataDir, 'cluster-secret'))).rejects.toThrow(/ENOENT/);
    await generated.stop();

    const node = await newNode('original');
    await node.start(['--bootstrap']);
    expect(node.stdout).not.toMatch(/first admin/);
    const status = await meshdesk(['cluster', 'status', '--api', node.url]);
    expect(status.code).toBe(0);
    // The password from a file, as a script would keep it (never in argv).
    const passwordFile = join(dir(), 'admin-password.txt');
    await writeFile(passwordFile, `${ADMIN_PASSWORD}\n`, { mode: 0o600 });
    const fromFile = await meshdesk(
      ['cluster', 'members', '--api', node.url, '--password-file', passwordFile],
      {
        MESHDESK_ADMIN_PASSWORD: '',
      },
    );
    expect([fromFile.code, fromFile.stderr]).toEqual([0, '']);
    expect(status.stdout).toMatch(/leader n[0-9a-f]+ {2}term \d+/);
    expect(status.stdout).toMatch(/original\s+127\.0\.0\.1:\d+\s+leader\s+up/);

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
    // An existing backup is kept unless --force says otherwise; no temporary file stays either way.
    const again = await meshdesk(['backup', '--out', offline, '--data-dir', node.dataDir]);
    expect([again.code, again.stderr.trim().split('\n').length]).toEqual([2, 1]);
    expect(again.stderr).toMatch(/exists; pass --force to overwrite it/);
    const forced = await meshdesk(['backup', '--out', offline, '--data-dir', node.dataDir, '--force']);
    expect(forced.code).toBe(0);
    expect((await stat(offline)).mode & 0o777).toBe(0o600);
    expect((await readdir(dir())).filter((name) => name.endsWith('.tmp'))).toEqual([]);

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

  it('keeps its key and the root key owner-only, prints the cluster CA, and moves an older data directory by backup and restore', async () => {
    const node = await newNode('certified');
    await node.start(['--bootstrap']);
    const tls = join(node.dataDir, 'tls');
    expect((await stat(tls)).mode & 0o777).toBe(0o700);
    for (const file of ['node.key', 'ca-root.key']) {
      expect((await stat(join(tls, file))).mode & 0o777, file).toBe(0o600);
    }
    // The intermediate waited on disk only until the first batch put it in the model.
    await expect(stat(join(tls, 'intermediate.pending.json'))).rejects.toThrow(/ENOENT/);

    const openssl = await run('openssl', [
      'x509',
      '-in',
      join(tls, 'ca.pem'),
      '-noout',
      '-fingerprint',
      '-sha256',
    ]);
    const expected = openssl.stdout.trim().replace(/^sha256 Fingerprint=/i, '');
    const fromDir = await meshdesk(['cluster', 'ca', '--data-dir', node.dataDir]);
    expect(fromDir.code).toBe(0);
    expect(fromDir.stdout).toMatch(/^-----BEGIN CERTIFICATE-----\n[\s\S]+-----END CERTIFICATE-----\n/);
    expect(fromDir.stdout.trim().split('\n').at(-1)).toBe(`SHA-256 fingerprint ${expected}`);
    const file = join(dir(), 'ca.pem');
    const fromApi = await meshdesk(['cluster', 'ca', '--api', node.url, '--out', file]);
    expect(fromApi.stdout.trim()).toBe(`wrote ${file}: the cluster CA, SHA-256 fingerprint ${expected}`);
    expect(await readFile(file, 'utf8')).toBe(await readFile(join(tls, 'ca.pem'), 'utf8'));

    // Join tokens: minted (the token alone on stdout), listed without secrets, revoked.
    const invite = await meshdesk(['cluster', 'invite', '--expires', '2h', '--api', node.url]);
    expect(invite.code).toBe(0);
    const token = invite.stdout.trim();
    expect(token).toMatch(/^mdjoin1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    const { id, secret } = parseJoinToken(token).payload;
    const listed = await meshdesk(['cluster', 'invites', '--api', node.url]);
    expect(listed.stdout).toMatch(new RegExp(`^${id}\\s+pending\\s`, 'm'));
    expect(listed.stdout).not.toContain(secret);
    expect((await meshdesk(['cluster', 'revoke-invite', id, '--api', node.url])).stdout.trim()).toBe(
      `revoked ${id}`,
    );
    expect((await meshdesk(['cluster', 'invites', '--api', node.url])).stdout).toMatch(
      new RegExp(`^${id}\\s+revoked\\s`, 'm'),
    );
    await node.stop();

    // A data directory from before certificates: state (a cluster secret) but no tls/.
    await rm(tls, { recursive: true });
    await writeFile(join(node.dataDir, 'cluster-secret'), 'an-old-shared-cluster-secret\n', { mode: 0o600 });
    const old = await meshdesk([
      'start',
      '--data-dir',
      node.dataDir,
      '--api',
      '127.0.0.1:0',
      '--cluster',
      '127.0.0.1:0',
    ]);
    expect(old.code).toBe(1);
    expect(old.stderr.trim().split('\n')).toHaveLength(1);
    expect(old.stderr).toMatch(/was made by a meshdesk without cluster certificates/);
    expect(old.stderr).toMatch(/meshdesk backup --data-dir .+ --out model\.sqlite/);
    const backup = join(dir(), 'moved.sqlite');
    expect((await meshdesk(['backup', '--out', backup, '--data-dir', node.dataDir])).code).toBe(0);
    const moved = await newNode('moved');
    await moved.startWith(['restore', '--from', backup]);
    expect((await stat(join(moved.dataDir, 'tls', 'node.pem'))).isFile()).toBe(true);
    const ca = await fetch(`${moved.url}/api/v1/cluster/ca`);
    expect(ca.status).toBe(200);
    await login(moved.url); // the old admin, in the new cluster
  }, 120_000);
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
