/**
 * `meshdesk router invite` and `meshdesk router enroll` as an admin and a router's machine run
 * them, against a real node: the token is printed alone, spent once for an owner-only identity
 * file whose certificate names the router, and every mistake ends in one line and a non-zero exit.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJoinToken } from '../../core/cluster/join-token.js';
import { spiffeId, spiffeIdsOf } from '../../core/pki/ca.js';
import { readRouterIdentity } from '../../core/router/identity.js';
import { ADMIN_PASSWORD, ControllerProcess } from '../support/controller-processes.js';
import { callController, loginToController } from '../support/controller-api.js';
import { freePort } from '../support/kv-cluster.js';
import { captureOutput } from '../support/child-output.js';
import { BIN, meshdesk } from '../support/meshdesk-bin.js';
import { waitFor } from '../support/wait.js';

describe('meshdesk router invite / enroll', () => {
  let root: string;
  const dir = (): string => root;
  let node: ControllerProcess;
  let routerId: string;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'meshdesk-router-enroll-'));
    node = new ControllerProcess('enroller', join(dir(), 'node'), await freePort(), await freePort());
    await node.start(['--bootstrap']);
    const token = await loginToController(node.url, 'admin', ADMIN_PASSWORD);
    const made = await callController(node.url, 'POST', '/routers', { token, body: { name: 'edge 1' } });
    routerId = ((await made.json()) as { id: string }).id;
  }, 60_000);

  afterAll(async () => {
    await node?.stop();
    await rm(root, { recursive: true, force: true });
  });

  it('mints a token for a router by name and spends it once for an owner-only identity', async () => {
    const invite = await meshdesk(['router', 'invite', 'edge 1', '--expires', '30m', '--api', node.url]);
    expect(invite.stderr).toBe('');
    expect(invite.code).toBe(0);
    const token = invite.stdout.trim();
    expect(parseJoinToken(token).payload).toMatchObject({ kind: 'router', subject: routerId });

    const tokenFile = join(dir(), 'token');
    await writeFile(tokenFile, `${token}\n`, { mode: 0o600 });
    const out = join(dir(), 'router.json');
    const enrolled = await meshdesk(['router', 'enroll', '--token-file', tokenFile, '--out', out]);
    expect(enrolled.stderr).toBe('');
    expect(enrolled.stdout.trim()).toMatch(
      new RegExp(
        `^enrolled router edge 1 \\(${routerId}\\) of cluster \\S+: wrote ${out}; run 'meshdesk router --identity ${out}'$`,
      ),
    );
    expect((await stat(out)).mode & 0o777).toBe(0o600);
    const identity = await readRouterIdentity(out);
    expect(identity.router).toEqual({ id: routerId, name: 'edge 1' });
    expect(spiffeIdsOf(identity.certificate)).toEqual([spiffeId(identity.clusterId, 'router', routerId)]);
    expect(identity.ca).toBe(await readFile(join(node.dataDir, 'tls', 'ca.pem'), 'utf8'));
    expect(identity.controllers).toHaveLength(1);

    // Spent: the second try fails in one line, and the file is kept unless --force.
    const refused = await meshdesk(['router', 'enroll', '--token-file', tokenFile, '--out', out]);
    expect([refused.code, refused.stderr.trim()]).toEqual([
      2,
      `meshdesk router: --out ${out} exists; pass --force to replace it (see meshdesk router --help)`,
    ]);
    const spent = await meshdesk(['router', 'enroll', '--token-file', tokenFile, '--out', out, '--force']);
    expect(spent.code).toBe(1);
    expect(spent.stderr.trim().split('\n')).toHaveLength(1);
    expect(spent.stderr).toMatch(/refused to enroll the router \(410\): the invitation was already used/);
  }, 60_000);

  it('runs the enrolled router on its certificate: the controller knows it by its id', async () => {
    const out = join(dir(), 'router.json'); // written by the first test
    const child = spawn(process.execPath, [BIN, 'router', '--identity', out, '--listen', '127.0.0.1:0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output = captureOutput(child);
    try {
      await waitFor(async () => output.stdout().includes('ready'), 'the router ready');
      expect(output.stdout()).toMatch(
        new RegExp(
          `^meshdesk: router edge 1 \\(${routerId}\\) ready — links on 127\\.0\\.0\\.1:\\d+, 1 controller\\(s\\), on its certificate$`,
          'm',
        ),
      );
      const token = await loginToController(node.url, 'admin', ADMIN_PASSWORD);
      await waitFor(async () => {
        const runtime = await callController(node.url, 'GET', '/runtime', { token });
        const routers = ((await runtime.json()) as { routers: { id: string; name: string }[] }).routers;
        return routers.some((r) => r.id === routerId && r.name === 'edge 1');
      }, 'the controller has the router');
    } finally {
      child.kill('SIGTERM');
      await output.exited;
    }
    const mixed = await meshdesk(['router', '--identity', out, '--name', 'edge 1']);
    expect([mixed.code, mixed.stderr.trim()]).toEqual([
      2,
      "meshdesk router: --name is gone: routers have no shared secret any more; enroll the router ('meshdesk router enroll TOKEN --out router.json') and run it with --identity router.json (see meshdesk router --help)",
    ]);
    const missing = await meshdesk(['router', '--identity', join(dir(), 'none.json')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^meshdesk router: --identity: cannot read .*none\.json \(ENOENT\)/);
  }, 60_000);

  it('refuses what is not a router enrollment token, and a router nobody has', async () => {
    const join_ = await meshdesk(['cluster', 'invite', '--api', node.url]);
    const controllerToken = join_.stdout.trim();
    const wrong = await meshdesk(['router', 'enroll', '--out', join(dir(), 'x.json')], {
      MESHDESK_ENROLL_TOKEN: controllerToken,
    });
    expect([wrong.code, wrong.stderr.trim()]).toEqual([
      2,
      "meshdesk router: not a router enrollment token: it is a controller's join token, for 'meshdesk start --join' (see meshdesk router --help)",
    ]);
    const garbage = await meshdesk(['router', 'enroll', 'mdjoin1.abc', '--out', join(dir(), 'y.json')]);
    expect(garbage.code).toBe(2);
    expect(garbage.stderr).toMatch(/not a router enrollment token: the join token is damaged/);
    const nobody = await meshdesk(['router', 'invite', 'no such router', '--api', node.url]);
    expect([nobody.code, nobody.stderr.trim()]).toEqual([
      1,
      "meshdesk router: no router is named or has the id 'no such router' (see the Routers page)",
    ]);
  }, 60_000);
});
