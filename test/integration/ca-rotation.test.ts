/**
 * Rotating the intermediate CA on a running cluster. Three `meshdesk start` processes, two
 * enrolled routers linked to each other (in-process) and a third as `meshdesk router --identity
 * FILE`: a node without the root key refuses (NO_ROOT_KEY); the bootstrap node signs a new
 * intermediate; every member then re-issues its own certificate from it and every router renews
 * its own (the process rewrites its identity file), with no restart, while the routers stay
 * connected to all three and their link stays the same, and the cluster keeps taking writes.
 * Finishing the rotation waits for every holder (a router enrolled before it and never started
 * makes it refuse, naming it), then retires the earlier intermediate: a member's or a router's
 * certificate from it is refused at every handshake (cluster port, router channel, router links,
 * a router's status endpoint); the members' connections had moved onto their renewed
 * certificates before, the routers' link is made again on theirs, and the cluster goes on.
 * Then a new root (`newRoot`): its key stays on the bootstrap node; everyone re-issues under it
 * while trusting only the current root (chains carry the new root's certificate from it); once
 * finished, every member and router trusts the new root only and keeps it on disk (the router
 * process starts again on its identity file), and a certificate of the earlier root opens
 * nothing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io } from 'socket.io-client';
import { X509Certificate } from 'node:crypto';
import { certificatesOf, fingerprint, issuerOf } from '../../core/pki/ca.js';
import { certificateCredentials } from '../../core/router/credentials.js';
import type { RouterIdentity } from '../../core/router/identity.js';
import { controllerIdentity } from '../../core/router/controller-session.js';
import { makeLinkHello, LINK_NAMESPACE } from '../../core/router/link-auth.js';
import { PROTOCOL_VERSION, ROUTER_NAMESPACE } from '../../core/runtime/protocol.js';
import { createFrameParser } from '../../core/transport/frame-parser.js';
import { makeHello } from '../../core/transport/handshake.js';
import { writeRouterIdentity } from '../../core/router/identity.js';
import type { RouterCredentials } from '../../core/router/credentials.js';
import type { RouterAgent } from '../../core/router/router-agent.js';
import { captureOutput, type ChildOutput } from '../support/child-output.js';
import { callController } from '../support/controller-api.js';
import { ControllerCluster } from '../support/controller-processes.js';
import { BIN, meshdesk } from '../support/meshdesk-bin.js';
import {
  createEnrolledRouter,
  fetchAsCertificate,
  startEnrolledRouter,
} from '../support/enrolled-routers.js';
import { waitFor } from '../support/wait.js';

let cluster: ControllerCluster;
const routers: RouterAgent[] = [];
/** Each router's latest renewed credentials. */
const renewed = new Map<number, RouterCredentials>();
/** The router run as a process, and its identity file. */
let child: ChildProcess | undefined;
let childOutput: ChildOutput | undefined;
let identityFile = '';
let processRouterId = '';
/** The in-process routers' identities as enrolled (certificates of the first intermediate). */
const enrolled: RouterIdentity[] = [];
/** A router enrolled before the rotation and never started: it cannot renew. */
let idle: RouterIdentity;
/** Node 1's credentials before the rotation, as a thief of its disk would hold them. */
let oldNode: RouterCredentials;
let clusterId = '';
const ids: string[] = [];
let adminToken = '';

beforeAll(async () => {
  cluster = await ControllerCluster.start(3);
  const token = await cluster.login();
  adminToken = token;
  for (let i = 0; i < 3; i++) {
    const health = await cluster.call(i, 'GET', '/health', undefined, {}, false);
    ids.push(health.body.nodeId as string);
    clusterId = health.body.clusterId as string;
  }
  const tls = (file: string) => readFile(join(cluster.node(1).dataDir, 'tls', file), 'utf8');
  oldNode = {
    clusterId,
    routerId: ids[1]!,
    key: await tls('node.key'),
    cert: await tls('node.pem'),
    ca: await tls('ca.pem'),
  };
  idle = await createEnrolledRouter(cluster.node(0).url, token, 'edge-idle');
  for (const [k, name] of ['edge-a', 'edge-b'].entries()) {
    const identity = await createEnrolledRouter(cluster.node(0).url, token, name);
    enrolled.push(identity);
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
  processRouterId = third.router.id;
  await startRouterProcess();
  await waitFor(
    async () =>
      routers.every(
        (r) => r.controllers.status().filter((c) => c.connected).length === 3 && linkBetween() !== undefined,
      ),
    'the routers connected to all three and linked',
  );
}, 120_000);

/** `meshdesk router --identity FILE`, until every controller has its session. */
async function startRouterProcess(): Promise<void> {
  child = spawn(process.execPath, [BIN, 'router', '--identity', identityFile], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  childOutput = captureOutput(child);
  for (const i of [0, 1, 2]) {
    await waitFor(async () => {
      const runtime = await callController(cluster.node(i).url, 'GET', '/runtime', { token: adminToken });
      return ((await runtime.json()) as { routers: { id: string }[] }).routers.some(
        (r) => r.id === processRouterId,
      );
    }, `the router process connected to controller ${i}`);
  }
}

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

/** How a handshake with `options` ended: `connected`, or the refusal's code (or error). */
function handshake(url: string, options: Parameters<typeof io>[1]): Promise<string> {
  const socket = io(url, {
    transports: ['websocket'],
    forceNew: true,
    reconnection: false,
    parser: createFrameParser(() => undefined),
    ...options,
  });
  return new Promise<string>((resolve) => {
    socket.on('connect', () => resolve('connected'));
    socket.on('connect_error', (err: Error & { data?: { code?: string } }) =>
      resolve(err.data?.code ?? err.message),
    );
  }).finally(() => socket.disconnect());
}

describe('finishing the rotation', () => {
  it('waits for every holder, then retires the earlier intermediate everywhere', async () => {
    const earlier = issuerOf(oldNode.cert);
    // Asked of a follower: the write is forwarded to the leader over the members' connections.
    const follower = ((await cluster.leaderIndex()) + 1) % 3;
    const finish = () => cluster.call(follower, 'POST', '/cluster/ca/finish-rotation');
    // Each member records its renewed certificate; then only the idle router holds it back.
    await waitFor(async () => {
      const refused = await finish();
      return refused.status === 409 && String(refused.body.detail).includes('edge-idle');
    }, 'only the router that never renewed holds the rotation back');
    const held = await finish();
    expect([held.status, held.body.code]).toEqual([409, 'ROTATION_UNFINISHED']);
    expect(held.body.detail).not.toMatch(/edge-a|edge-b|member/);
    // Before it is finished, the earlier intermediate's certificates still open everything.
    const [a, b] = routers as [RouterAgent, RouterAgent];
    expect((await fetchAsCertificate(`https://${b.address}/status`, oldNode)).status).toBe(200);

    const link = linkBetween();
    const deleted = await callController(cluster.node(0).url, 'DELETE', `/routers/${idle.router.id}`, {
      token: adminToken,
    });
    expect(deleted.status).toBe(204);
    // As an admin does it: `meshdesk cluster rotate-ca --finish`.
    const finished = await meshdesk([
      'cluster',
      'rotate-ca',
      '--finish',
      '--api',
      cluster.node(follower).url,
    ]);
    expect(finished.code, finished.stderr).toBe(0);
    expect(finished.stdout.trim()).toBe(
      `retired intermediate CA ${earlier}; its certificates open nothing any more`,
    );
    const again = await finish();
    expect([again.status, again.body.retired]).toEqual([200, []]);

    // A member's certificate of the retired intermediate opens no cluster port…
    const node0 = `https://127.0.0.1:${cluster.node(0).clusterPort}`;
    expect(
      await handshake(`${node0}/raft`, {
        ca: oldNode.ca,
        key: oldNode.key,
        cert: oldNode.cert,
        ...{ checkServerIdentity: controllerIdentity },
        auth: makeHello(clusterId, ids[1]!, ids[0]!),
      }),
    ).toBe('REVOKED_CERTIFICATE');
    // …and no router's status endpoint, while its renewed one does.
    await waitFor(
      async () => (await fetchAsCertificate(`https://${b.address}/status`, oldNode)).status === 401,
      'the router heard the earlier intermediate is retired',
    );
    const tls = (file: string) => readFile(join(cluster.node(1).dataDir, 'tls', file), 'utf8');
    const renewedNode = { ...oldNode, key: await tls('node.key'), cert: await tls('node.pem') };
    expect((await fetchAsCertificate(`https://${b.address}/status`, renewedNode)).status).toBe(200);

    // A router's certificate of the retired intermediate opens no router channel and no link.
    const oldRouter = certificateCredentials(enrolled[0]!);
    expect(
      await handshake(`${node0}${ROUTER_NAMESPACE}`, {
        ...{ ca: oldRouter.ca, key: oldRouter.key, cert: oldRouter.cert },
        ...{ checkServerIdentity: controllerIdentity },
        auth: { v: PROTOCOL_VERSION, router: oldRouter.routerId },
      }),
    ).toBe('REVOKED_CERTIFICATE');
    const linkAttempt = await handshake(`https://${b.address}${LINK_NAMESPACE}`, {
      ...{ ca: oldRouter.ca, key: oldRouter.key, cert: oldRouter.cert },
      ...{ checkServerIdentity: () => undefined },
      auth: makeLinkHello('stolen-link', oldRouter.routerId, b.name),
    });
    expect(linkAttempt).toBe('link refused');

    // The members had moved their connections onto their renewed certificates (make before
    // break) before it finished, so none was left to cut; the routers' link, made before they
    // renewed, was cut and made again on their renewed certificates.
    for (const i of [0, 1, 2]) console.log('NODE', i, cluster.node(i).stderr);
    for (const i of [0, 1, 2]) expect(cluster.node(i).stderr).not.toContain('closed peer connections');
    await waitFor(async () => {
      const now = linkBetween();
      return now !== undefined && now !== link;
    }, 'the routers linked again on their renewed certificates');
    await waitFor(
      async () => [a, b].every((r) => r.controllers.status().filter((c) => c.connected).length === 3),
      'the routers on all three controllers',
    );
    for (const i of [0, 1, 2]) {
      const written = await cluster.call(i, 'POST', '/identities', { name: `after-finish-${i}` });
      expect(written.status, JSON.stringify(written.body)).toBe(201);
    }
  }, 90_000);
});

describe('a new root', () => {
  it('is introduced under the current one, re-issues everything, and becomes the only root when finished', async () => {
    const caFile = (i: number) => readFile(join(cluster.node(i).dataDir, 'tls', 'ca.pem'), 'utf8');
    const earlierRoot = await caFile(0);
    const tls = (file: string) => readFile(join(cluster.node(1).dataDir, 'tls', file), 'utf8');
    // Node 1's certificate now, of the current root: retired with it at the end.
    const ofEarlierRoot = { ...oldNode, key: await tls('node.key'), cert: await tls('node.pem') };
    const [a, b] = routers as [RouterAgent, RouterAgent];

    const rotated = await cluster.call(0, 'POST', '/cluster/ca/rotate', { newRoot: true });
    expect(rotated.status, JSON.stringify(rotated.body)).toBe(200);
    const issuer = rotated.body.fingerprint as string;
    const root = rotated.body.root as string;
    expect(root).not.toBe(fingerprint(earlierRoot));
    // Its key stays on the node that made it, 0600, beside the first root's.
    const keyFile = join(
      cluster.node(0).dataDir,
      'tls',
      `ca-root-${root.replaceAll(':', '').toLowerCase()}.key`,
    );
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);

    // Everyone re-issues from the new intermediate; chains carry the new root's certificate from
    // the current one, so that nobody has to trust two roots.
    for (const i of [0, 1, 2])
      await waitFor(async () => (await nodeIssuer(i)) === issuer, `node ${i} re-issued under the new root`);
    const chain = certificatesOf(await readFile(join(cluster.node(2).dataDir, 'tls', 'node.pem'), 'utf8'));
    expect(chain).toHaveLength(3);
    expect(new X509Certificate(chain[2]!).checkIssued(new X509Certificate(earlierRoot))).toBe(true);
    for (const k of [0, 1])
      await waitFor(async () => issuerOf(renewed.get(k)?.cert ?? '') === issuer, `router ${k} renewed`);
    await waitFor(async () => {
      const { certificate } = JSON.parse(await readFile(identityFile, 'utf8')) as { certificate: string };
      return issuerOf(certificate) === issuer;
    }, 'the router process renewed');
    await waitFor(
      async () => [a, b].every((r) => r.controllers.status().filter((c) => c.connected).length === 3),
      'the routers on all three controllers during the change',
    );

    const follower = ((await cluster.leaderIndex()) + 1) % 3;
    // Once every member has recorded its renewed certificate, the rotation finishes.
    let finished = await cluster.call(follower, 'POST', '/cluster/ca/finish-rotation');
    await waitFor(async () => {
      if (finished.status !== 409 || finished.body.code !== 'ROTATION_UNFINISHED') return true;
      finished = await cluster.call(follower, 'POST', '/cluster/ca/finish-rotation');
      return false;
    }, 'every member recorded its renewed certificate');
    expect(finished.status, JSON.stringify(finished.body)).toBe(200);
    expect(finished.body.root).toBe(root);

    // Every member and router trusts the new root, and keeps it where it reads it at start.
    for (const i of [0, 1, 2])
      await waitFor(async () => fingerprint(await caFile(i)) === root, `node ${i} trusts the new root`);
    for (const k of [0, 1])
      await waitFor(
        async () => fingerprint(renewed.get(k)?.ca ?? earlierRoot) === root,
        `router ${k} took it`,
      );
    await waitFor(async () => {
      const { ca } = JSON.parse(await readFile(identityFile, 'utf8')) as { ca: string };
      return fingerprint(ca) === root;
    }, 'the router process took it');

    // A certificate of the earlier root opens nothing: not the cluster port, not a router.
    const node0 = `https://127.0.0.1:${cluster.node(0).clusterPort}`;
    expect(
      await handshake(`${node0}/raft`, {
        ca: ofEarlierRoot.ca,
        key: ofEarlierRoot.key,
        cert: ofEarlierRoot.cert,
        ...{ checkServerIdentity: controllerIdentity },
        auth: makeHello(clusterId, ids[1]!, ids[0]!),
      }),
    ).toBe('UNTRUSTED_CERTIFICATE');
    await expect(fetchAsCertificate(`https://${b.address}/status`, ofEarlierRoot)).rejects.toThrow();
    const tlsNow = {
      ...ofEarlierRoot,
      key: await tls('node.key'),
      cert: await tls('node.pem'),
      ca: await caFile(1),
    };
    expect((await fetchAsCertificate(`https://${b.address}/status`, tlsNow)).status).toBe(200);

    // The cluster goes on, and the router process starts again on its identity file.
    await waitFor(
      async () => [a, b].every((r) => r.controllers.status().filter((c) => c.connected).length === 3),
      'the routers on all three controllers',
    );
    await waitFor(async () => linkBetween() !== undefined, 'the routers linked');
    for (const i of [0, 1, 2]) {
      const written = await cluster.call(i, 'POST', '/identities', { name: `after-new-root-${i}` });
      expect(written.status, JSON.stringify(written.body)).toBe(201);
    }
    child?.kill('SIGTERM');
    await childOutput?.exited;
    await startRouterProcess();
  }, 120_000);
});
