/**
 * Rotating the intermediate CA on a running cluster. Three `meshdesk start` processes, two
 * enrolled routers linked to each other (in-process) and a third as `meshdesk router --identity
 * FILE`: a node without the root key refuses (NO_ROOT_KEY); the bootstrap node signs a new
 * intermediate; every member then re-issues its own certificate from it and every router renews
 * its own (the process rewrites its identity file), with no restart, while the routers stay
 * connected to all three and their link stays the same, and the cluster keeps taking writes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issuerOf } from '../../core/pki/ca.js';
import { writeRouterIdentity } from '../../core/router/identity.js';
import type { RouterCredentials } from '../../core/router/credentials.js';
import type { RouterAgent } from '../../core/router/router-agent.js';
import { captureOutput, type ChildOutput } from '../support/child-output.js';
import { callController } from '../support/controller-api.js';
import { ControllerCluster } from '../support/controller-processes.js';
import { BIN } from '../support/meshdesk-bin.js';
import { createEnrolledRouter, startEnrolledRouter } from '../support/enrolled-routers.js';
import { waitFor } from '../support/wait.js';

let cluster: ControllerCluster;
const routers: RouterAgent[] = [];
/** Each router's latest renewed credentials. */
const renewed = new Map<number, RouterCredentials>();
/** The router run as a process, and its identity file. */
let child: ChildProcess | undefined;
let childOutput: ChildOutput | undefined;
let identityFile = '';

beforeAll(async () => {
  cluster = await ControllerCluster.start(3);
  const token = await cluster.login();
  for (const [k, name] of ['edge-a', 'edge-b'].entries()) {
    const identity = await createEnrolledRouter(cluster.node(0).url, token, name);
    routers.push(
      await startEnrolledRouter(identity, {
        listen: { host: '127.0.0.1', port: 0 },
        heartbeatMs: 100,
        linkPingMs: 200,
        onRenewed: async (credentials) => void renewed.set(k, credentials),
      }),
    );
  }
  // The third, as an admin runs it: `meshdesk router --identity FILE`.
  const third = await createEnrolledRouter(cluster.node(0).url, token, 'edge-c');
  identityFile = join(cluster.root, 'edge-c.json');
  await writeRouterIdentity(identityFile, third);
  child = spawn(process.execPath, [BIN, 'router', '--identity', identityFile], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  childOutput = captureOutput(child);
  await waitFor(async () => {
    const runtime = await callController(cluster.node(0).url, 'GET', '/runtime', { token });
    return ((await runtime.json()) as { routers: { id: string }[] }).routers.some(
      (r) => r.id === third.router.id,
    );
  }, 'the router process connected');
  await waitFor(
    async () =>
      routers.every(
        (r) => r.controllers.status().filter((c) => c.connected).length === 3 && linkBetween() !== undefined,
      ),
    'the routers connected to all three and linked',
  );
}, 120_000);

afterAll(async () => {
  child?.kill('SIGTERM');
  await childOutput?.exited;
  for (const r of routers) await r.close();
  await cluster?.close();
});

/**
 * The link between the two in-process routers, as both ends hold it (the process router only
 * dials, so it may link with either of them too).
 */
function linkBetween(): string | undefined {
  const [a, b] = routers as [RouterAgent, RouterAgent];
  const ab = a.links.status().find((l) => l.peer === b.name)?.id;
  return ab !== undefined && b.links.status().some((l) => l.id === ab) ? ab : undefined;
}

const nodeIssuer = async (i: number): Promise<string | undefined> =>
  issuerOf(await readFile(join(cluster.node(i).dataDir, 'tls', 'node.pem'), 'utf8'));

describe('rotating the intermediate CA', () => {
  it('re-issues every member’s and router’s certificate from the new one, with no downtime', async () => {
    const before = await nodeIssuer(0);
    const link = linkBetween();
    const refused = await cluster.call(1, 'POST', '/cluster/ca/rotate');
    expect([refused.status, refused.body.code]).toEqual([409, 'NO_ROOT_KEY']);
    expect(refused.body.detail).toMatch(/bootstrapped the cluster/);

    const rotated = await cluster.call(0, 'POST', '/cluster/ca/rotate');
    expect(rotated.status, JSON.stringify(rotated.body)).toBe(200);
    const issuer = rotated.body.fingerprint as string;
    expect(issuer).not.toBe(before);

    for (const i of [0, 1, 2])
      await waitFor(async () => (await nodeIssuer(i)) === issuer, `node ${i} re-issued its certificate`);
    for (const k of [0, 1])
      await waitFor(async () => {
        const credentials = renewed.get(k);
        return credentials !== undefined && issuerOf(credentials.cert) === issuer;
      }, `router ${k} renewed from the new intermediate`);

    // The router process renewed too, and kept its new certificate where it reads it at start.
    await waitFor(async () => {
      const { certificate } = JSON.parse(await readFile(identityFile, 'utf8')) as { certificate: string };
      return issuerOf(certificate) === issuer;
    }, 'the router process rewrote its identity file');
    expect((await stat(identityFile)).mode & 0o777).toBe(0o600);

    // Nobody went away: both routers on all three controllers, on the same link, and writes go on.
    await waitFor(
      async () => routers.every((r) => r.controllers.status().filter((c) => c.connected).length === 3),
      'the routers on all three controllers',
    );
    expect(linkBetween()).toBe(link);
    for (const i of [0, 1, 2]) {
      const written = await cluster.call(i, 'POST', '/identities', { name: `after-rotation-${i}` });
      expect(written.status, JSON.stringify(written.body)).toBe(201);
    }
  }, 60_000);
});
