/**
 * Removing a member revokes its certificates. Three `meshdesk start` processes and a router on
 * its own certificate connected to all three; one member is removed. Its connections close and
 * its redials are refused on the members that stay (REVOKED_CERTIFICATE, counted); a dial made
 * with its certificate is refused at the handshake; the router drops its session to it and
 * refuses it from then on, and its status endpoint no longer answers that certificate; a
 * request it signs is refused by the API, and it cannot be added back under its old id.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signNodeRequest } from '../../core/cluster/node-signature.js';
import type { RouterCredentials } from '../../core/router/credentials.js';
import type { RouterAgent } from '../../core/router/router-agent.js';
import { makeHello } from '../../core/transport/handshake.js';
import { controllerIdentity } from '../../core/router/controller-session.js';
import { createFrameParser } from '../../core/transport/frame-parser.js';
import { ControllerCluster } from '../support/controller-processes.js';
import {
  createEnrolledRouter,
  fetchAsCertificate,
  startEnrolledRouter,
} from '../support/enrolled-routers.js';
import { waitFor } from '../support/wait.js';

let cluster: ControllerCluster;
let router: RouterAgent;
let clusterId = '';
const ids: string[] = [];
/** The member removed, and the one its requests go to. */
let removed = 2;
let stays = 0;

/** A node's certificate and key from its data directory (what a thief of the machine holds). */
async function credentialsOf(i: number): Promise<RouterCredentials> {
  const tls = join(cluster.node(i).dataDir, 'tls');
  const read = (file: string) => readFile(join(tls, file), 'utf8');
  return {
    clusterId,
    routerId: ids[i]!,
    key: await read('node.key'),
    cert: await read('node.pem'),
    ca: await read('ca.pem'),
  };
}

/** Refusals of `reason` counted by node `i`'s cluster listener. */
async function refused(i: number, reason: string): Promise<number> {
  const metrics = (await cluster.call(i, 'GET', '/metrics')).body as string;
  const line = metrics
    .split('\n')
    .find((l) => l.startsWith('meshdesk_peer_refused_connections{') && l.includes(`reason="${reason}"`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

beforeAll(async () => {
  cluster = await ControllerCluster.start(3);
  for (let i = 0; i < 3; i++) {
    const health = await cluster.call(i, 'GET', '/health', undefined, {}, false);
    ids.push(health.body.nodeId as string);
    clusterId = health.body.clusterId as string;
  }
  const leader = await cluster.leaderIndex();
  // A follower goes (the leader stays): requests go to a member that stays.
  removed = leader === 2 ? 1 : 2;
  stays = leader;
  const token = await cluster.login();
  const identity = await createEnrolledRouter(cluster.node(stays).url, token, 'edge-1');
  expect(identity.controllers).toHaveLength(3);
  router = await startEnrolledRouter(identity, { listen: { host: '127.0.0.1', port: 0 }, heartbeatMs: 100 });
  await waitFor(
    async () => router.controllers.status().filter((c) => c.connected).length === 3,
    'the router connected to all three',
  );
}, 120_000);

afterAll(async () => {
  await router?.close();
  await cluster?.close();
});

describe('removing a member', () => {
  it('revokes its certificates: connections close, and nothing opens for them again', async () => {
    const gone = ids[removed]!;
    const remaining = [0, 1, 2].filter((i) => i !== removed);
    // Its certificate opens the router's status endpoint while it is a member.
    const its = await credentialsOf(removed);
    expect((await fetchAsCertificate(`https://${router.address}/status`, its)).status).toBe(200);

    expect((await cluster.call(stays, 'DELETE', `/cluster/members/${gone}`)).status).toBe(200);

    // The members that stay closed its connections: it redials, and is refused as revoked.
    for (const i of remaining)
      await waitFor(async () => (await refused(i, 'REVOKED_CERTIFICATE')) > 0, `node ${i} refused it`);
    // Its certificate, presented by anyone, is refused at the handshake.
    const socket = io(`https://127.0.0.1:${cluster.node(stays).clusterPort}/raft`, {
      transports: ['websocket'],
      forceNew: true,
      reconnection: false,
      ca: its.ca,
      key: its.key,
      cert: its.cert,
      ...{ checkServerIdentity: controllerIdentity },
      parser: createFrameParser(() => undefined),
      auth: makeHello(clusterId, gone, ids[stays]!),
    });
    const answer = await new Promise<string>((resolve) => {
      socket.on('connect', () => resolve('connected'));
      socket.on('connect_error', (err: Error & { data?: { code?: string } }) =>
        resolve(err.data?.code ?? err.message),
      );
    });
    socket.disconnect();
    expect(answer).toBe('REVOKED_CERTIFICATE');

    // The router heard it: its session to the removed member ends, and redials are refused.
    await waitFor(async () => {
      const session = router.controllers.status().find((c) => c.id === gone);
      return session !== undefined && !session.connected && session.refusedRevoked > 0;
    }, 'the router dropped and refused the removed member');
    expect(
      router.controllers
        .status()
        .filter((c) => c.connected)
        .map((c) => c.id)
        .sort(),
    ).toEqual(remaining.map((i) => ids[i]).sort());
    expect((await fetchAsCertificate(`https://${router.address}/status`, its)).status).toBe(401);
    expect(
      (await fetchAsCertificate(`https://${router.address}/status`, await credentialsOf(stays))).status,
    ).toBe(200);

    // A request it signs (asking to be a member again) is refused; an admin cannot add it back.
    const member = { id: gone, address: `127.0.0.1:${cluster.node(removed).clusterPort}` };
    const signed = signNodeRequest(its, {
      method: 'POST',
      path: '/api/v1/cluster/members',
      body: JSON.stringify(member),
    });
    const asked = await cluster.call(stays, 'POST', '/cluster/members', member, signed, false);
    expect([asked.status, asked.body.code]).toEqual([403, 'REVOKED_CERTIFICATE']);
    const added = await cluster.call(stays, 'POST', '/cluster/members', member);
    expect([added.status, added.body.code]).toEqual([403, 'MEMBER_RETIRED']);
    expect(added.body.detail).toMatch(/join the machine afresh/);
  }, 60_000);
});
