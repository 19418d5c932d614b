/**
 * The API beyond loopback (real `meshdesk start` processes): bound to 0.0.0.0 it speaks HTTPS
 * only, with the node's certificate chained to the cluster CA (openssl checks it as a second
 * opinion); a node joins through such a member, pinning its CA by the token's fingerprint; the
 * start line of a loopback node says it is plain HTTP.
 */
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { X509Certificate } from 'node:crypto';
import { get } from 'node:http';
import { join } from 'node:path';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchTrusting } from '../../core/client/server-trust.js';
import { clusterCaFile } from '../../core/cluster/credentials.js';
import { parseJoinToken } from '../../core/cluster/join-token.js';
import { certificatesOf, fingerprint } from '../../core/pki/ca.js';
import { ADMIN_PASSWORD, ControllerProcess } from '../support/controller-processes.js';
import { freePort } from '../support/kv-cluster.js';
import { startBareApiNode } from '../support/api-node.js';
import { testCa, testTls } from '../support/test-pki.js';

const run = promisify(execFile);
let root = '';
let wide: ControllerProcess;
let local: ControllerProcess;
let ca = '';
let token = '';

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'meshdesk-https-'));
  const clusterPort = await freePort();
  wide = new ControllerProcess('wide', join(root, 'wide'), await freePort(), clusterPort, '0.0.0.0');
  // Both log everything they would ever log: the join token must be in none of it.
  const verbose = { MESHDESK_LOG_LEVEL: 'trace' };
  wide.keepLog = true;
  await wide.start(['--bootstrap', '--advertise', `127.0.0.1:${clusterPort}`], verbose);
  ca = await readFile(clusterCaFile(wide.dataDir), 'utf8');
  local = new ControllerProcess('local', join(root, 'local'), await freePort(), await freePort());
  local.keepLog = true;
  token = await invite(wide);
  await local.start([], { ...verbose, MESHDESK_JOIN_TOKEN: token });
}, 120_000);

afterAll(async () => {
  await Promise.all([wide?.stop(), local?.stop()]);
  await rm(root, { recursive: true, force: true });
});

async function invite(member: ControllerProcess): Promise<string> {
  const trusted = fetchTrusting(ca);
  const login = await trusted(`${member.url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
  });
  const { token } = (await login.json()) as { token: string };
  const invited = await trusted(`${member.url}/api/v1/cluster/invitations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: '{}',
  });
  return ((await invited.json()) as { token: string }).token;
}

/** A plain-HTTP GET: resolves with the status if any HTTP answer comes back, rejects otherwise. */
function plainGet(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = get({ host: '127.0.0.1', port, path, agent: false, timeout: 5_000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error('no answer in 5 s')));
    req.on('error', reject);
  });
}

describe('an API bound beyond loopback', () => {
  it('says on its start line where it serves HTTPS, and a loopback one that it is plain HTTP', () => {
    expect(wide.url).toMatch(/^https:/);
    expect(wide.stdout).toContain(`ready — UI at ${wide.url}/\n`);
    expect(local.stdout).toContain(
      `ready — UI at ${local.url}/ (plain HTTP, loopback only; an --api bind beyond loopback serves HTTPS)\n`,
    );
  });

  it('refuses plain HTTP: no HTTP answer at all, so no password or token can be sent in clear', async () => {
    await expect(plainGet(wide.apiPort, '/api/v1/health')).rejects.toThrow(/socket hang up|ECONNRESET/);
    // The loopback node does answer plain HTTP.
    expect(await plainGet(local.apiPort, '/api/v1/health')).toBe(200);
  });

  it('answers HTTPS with the node certificate, chained to the cluster CA and naming its address', async () => {
    const caFile = clusterCaFile(wide.dataDir);
    // The server is another process: a synchronous openssl (its stdin closed at once) blocks nothing.
    const openssl = spawnSync(
      'openssl',
      [
        's_client',
        '-connect',
        `127.0.0.1:${wide.apiPort}`,
        '-CAfile',
        caFile,
        '-verify_return_error',
        '-showcerts',
      ],
      { input: '', encoding: 'utf8', timeout: 15_000 },
    );
    const stdout = `${openssl.stdout}${openssl.stderr}`;
    expect(stdout).toMatch(/Verify return code: 0 \(ok\)/);
    expect(stdout).toMatch(/New, TLSv1\.[23],/);
    const [leaf] = certificatesOf(stdout);
    const names = new X509Certificate(leaf!).subjectAltName ?? '';
    expect(names).toMatch(/^URI:spiffe:\/\/[^/]+\/controller\//);
    expect(names).toContain('IP Address:127.0.0.1');
    // The same certificate the cluster listener presents: one per node, renewed as one.
    expect(fingerprint(leaf!)).toBe(
      fingerprint(certificatesOf(await readFile(join(wide.dataDir, 'tls', 'node.pem'), 'utf8'))[0]!),
    );

    expect((await fetchTrusting(ca)(`${wide.url}/api/v1/health`)).status).toBe(200);
    // Another CA's trust does not reach it: verification is never skipped.
    const foreign = (await testCa('another-cluster')).root.certPem;
    await expect(fetchTrusting(foreign)(`${wide.url}/api/v1/health`)).rejects.toThrow();
  });

  it('lets a node join through it, pinning its CA by the join token', async () => {
    const members = (await fetchTrusting(ca)(`${wide.url}/api/v1/health`).then((r) => r.json())) as {
      clusterId: string;
    };
    const joined = (await fetch(`${local.url}/api/v1/health`).then((r) => r.json())) as {
      clusterId: string;
      status: string;
    };
    expect(joined).toMatchObject({ clusterId: members.clusterId, status: 'up' });
    expect(await readFile(clusterCaFile(local.dataDir), 'utf8')).toBe(ca);
  });

  it('keeps the join token out of both nodes’ output, even logging at trace', () => {
    const { secret } = parseJoinToken(token).payload;
    for (const node of [wide, local]) {
      expect(node.stderr.length, node.name).toBeGreaterThan(0);
      for (const text of [node.stdout, node.stderr]) {
        expect(text).not.toContain(token);
        expect(text).not.toContain(secret);
      }
    }
  });
});

const BIN = new URL('../../bin/meshdesk.js', import.meta.url).pathname;

/** `meshdesk …` as a user runs it; no cluster CA beside it unless the env gives a data dir. */
async function meshdesk(args: readonly string[], env: NodeJS.ProcessEnv = {}) {
  const ran = run(process.execPath, [BIN, ...args], {
    env: {
      ...process.env,
      MESHDESK_ADMIN_PASSWORD: ADMIN_PASSWORD,
      MESHDESK_DATA_DIR: join(root, 'no-node-here'),
      ...env,
    },
  });
  return ran.then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (err: { code?: number; stdout?: string; stderr?: string }) => ({
      code: err.code ?? -1,
      stdout: err.stdout ?? '',
      stderr: err.stderr ?? '',
    }),
  );
}

describe('the CLI against an HTTPS node', () => {
  it('verifies it with --ca, --ca-fingerprint or the data directory beside a node', async () => {
    const caFile = clusterCaFile(wide.dataDir);
    const status = ['cluster', 'status', '--api', wide.url];
    const { clusterId } = (await fetchTrusting(ca)(`${wide.url}/api/v1/health`).then((r) => r.json())) as {
      clusterId: string;
    };
    for (const how of [
      ['--ca', caFile],
      ['--ca-fingerprint', fingerprint(ca)],
    ]) {
      const outcome = await meshdesk([...status, ...how]);
      expect(outcome, how[0]).toMatchObject({ code: 0, stderr: '' });
      expect(outcome.stdout).toMatch(new RegExp(`^cluster ${clusterId} `));
    }
    // Beside a node: its data directory's CA, with nothing to pass.
    expect((await meshdesk(status, { MESHDESK_DATA_DIR: wide.dataDir })).code).toBe(0);
    const file = join(root, 'over-https.sqlite');
    const backup = await meshdesk(['backup', '--out', file, '--api', wide.url, '--ca', caFile]);
    expect(backup.stdout).toMatch(/^backup of index \d+ written to /);
  });

  it('refuses a server whose CA does not match, or that it has no CA for, in one line', async () => {
    const foreign = (await testCa('another-cluster')).root.certPem;
    const foreignFile = join(root, 'foreign-ca.pem');
    await writeFile(foreignFile, foreign);
    const status = ['cluster', 'status', '--api', wide.url];
    const cases: [string[], number, RegExp][] = [
      [
        ['--ca-fingerprint', fingerprint(foreign)],
        1,
        /presents a cluster CA whose fingerprint is .+, not the --ca-fingerprint .+: refusing to trust it$/,
      ],
      [
        ['--ca', foreignFile],
        1,
        /presents a certificate that the cluster CA given does not vouch for \(.+\): refusing it$/,
      ],
      [
        [],
        2,
        /is HTTPS and there is no cluster CA to verify it with: pass --ca FILE or --ca-fingerprint SHA256/,
      ],
      [['--ca-fingerprint', 'AB:CD'], 2, /--ca-fingerprint must be a SHA-256 fingerprint/],
    ];
    for (const [how, code, message] of cases) {
      const outcome = await meshdesk([...status, ...how]);
      expect(outcome.code, how.join(' ')).toBe(code);
      expect(outcome.stderr.trim().split('\n'), how.join(' ')).toHaveLength(1);
      expect(outcome.stderr.split(' (see meshdesk')[0]!.trim(), how.join(' ')).toMatch(message);
      expect(outcome.stdout).toBe('');
    }
    // Plain HTTP to a LAN address is refused before anything is sent.
    const plain = await meshdesk(['cluster', 'status', '--api', 'http://192.0.2.7:8440']);
    expect(plain.code).toBe(2);
    expect(plain.stderr).toMatch(/is plain HTTP beyond loopback, which would send credentials in clear/);
  });
});

describe('a renewed certificate', () => {
  it('is what new HTTPS connections get, with no restart', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'meshdesk-https-reload-'));
    const first = await testTls('reload-cluster', 'reload-node');
    const api = await startBareApiNode(dataDir, { tls: first });
    try {
      const port = new URL(api.server.url).port;
      // The server runs in this process: openssl runs beside it, not blocking it.
      const presented = async (): Promise<string> => {
        const ran = run('openssl', ['s_client', '-connect', `127.0.0.1:${port}`], { timeout: 15_000 });
        ran.child.stdin?.end();
        const { stdout } = await ran;
        return fingerprint(certificatesOf(stdout)[0]!);
      };
      expect(api.server.tls).toBe(true);
      expect(await presented()).toBe(fingerprint(certificatesOf(first.cert)[0]!));
      const renewed = await testTls('reload-cluster', 'reload-node');
      api.server.reloadTls(renewed);
      expect(await presented()).toBe(fingerprint(certificatesOf(renewed.cert)[0]!));
    } finally {
      await api.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
