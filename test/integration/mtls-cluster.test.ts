/**
 * Three `meshdesk start` processes, each in its own network namespace with its own address where
 * root allows (else on loopback, said in one line): node 0 bootstraps, the others join with a join
 * token each (no shared secret anywhere);
 * writes replicate over mutual TLS; kill -9 of the leader; a new leader takes writes. Each node's
 * certificate chains to the one cluster CA and names it by SPIFFE id with its own address, and no
 * node refused any connection of a member.
 */
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJoinToken } from '../../core/cluster/join-token.js';
import { certificatesOf, fingerprint, verifyChain } from '../../core/pki/ca.js';
import { JepsenCluster } from '../jepsen/cluster.js';
import { openHost } from '../jepsen/net.js';
import { waitFor } from '../support/wait.js';

const PASSWORD = 'mtls-cluster-admin-password';
let cluster: JepsenCluster;
let token = '';

beforeAll(async () => {
  const { host } = await openHost('netns', 3, (line) => console.log(line));
  cluster = await JepsenCluster.start({
    size: 3,
    host,
    adminPassword: PASSWORD,
  });
  const login = await cluster.http[0]?.request('POST', '/api/v1/auth/login', {
    body: { username: 'admin', password: PASSWORD },
  });
  token = (login?.json as { token: string }).token;
}, 120_000);

afterAll(async () => {
  await cluster?.close();
});

async function call(i: number, method: string, path: string, body?: unknown) {
  return cluster.http[i]!.request(method, `/api/v1${path}`, {
    headers: { authorization: `Bearer ${token}` },
    ...(body === undefined ? {} : { body }),
    timeoutMs: 10_000,
  });
}

async function identityNames(i: number, index: number): Promise<string[]> {
  const answer = await call(i, 'GET', `/identities?minIndex=${index}`);
  return ((answer.json as { data: { name: string }[] }).data ?? []).map((e) => e.name).sort();
}

describe('three controllers over mutual TLS', () => {
  it('hold certificates of one cluster CA naming each node at its own address', async () => {
    const { clusterId } = (await call(0, 'GET', '/cluster')).json as { clusterId: string };
    const roots = new Set<string>();
    for (const [i, node] of cluster.nodes.entries()) {
      const tls = join(node.dataDir, 'tls');
      const [leaf, intermediate] = certificatesOf(await readFile(join(tls, 'node.pem'), 'utf8')) as [
        string,
        string,
      ];
      const root = await readFile(join(tls, 'ca.pem'), 'utf8');
      roots.add(fingerprint(root));
      expect(verifyChain(leaf, intermediate, root)).toBe(true);
      const names = new X509Certificate(leaf).subjectAltName ?? '';
      expect(names).toMatch(new RegExp(`^URI:spiffe://${clusterId}/controller/${node.nodeId}, IP Address:`));
      expect(names).toContain(`IP Address:${cluster.http[i]!.host}`);
    }
    expect(roots.size).toBe(1);
  });

  it('were made with join tokens alone: no shared secret in any data directory or environment', async () => {
    const used = (
      (await call(0, 'GET', '/cluster/invitations')).json as {
        data: { id: string; state: string; usedBy: string | null }[];
      }
    ).data;
    expect(used.map((i) => [i.state, i.usedBy]).sort()).toEqual(
      cluster.nodes
        .slice(1)
        .map((n) => ['used', n.nodeId])
        .sort(),
    );
    for (const node of cluster.nodes) {
      await expect(readFile(join(node.dataDir, 'cluster-secret'))).rejects.toThrow(/ENOENT/);
      const environ = (await readFile(`/proc/${node.proc!.pid}/environ`, 'utf8')).split('\0');
      expect(environ.filter((e) => /^MESHDESK_(CLUSTER|ROUTER)_SECRET=/.test(e))).toEqual([]);
      // A joiner's token is in its environment, spent: it names an invitation the model shows used.
      const token = environ
        .find((e) => e.startsWith('MESHDESK_JOIN_TOKEN='))
        ?.slice('MESHDESK_JOIN_TOKEN='.length);
      if (node.index === 0) expect(token).toBeUndefined();
      else expect(used.find((i) => i.id === parseJoinToken(token!).payload.id)?.usedBy).toBe(node.nodeId);
    }
  });

  it('replicate writes, survive kill -9 of the leader, and take writes under the new leader', async () => {
    const first = await call(1, 'POST', '/identities', { name: 'before-the-kill' });
    expect(first.status).toBe(201);
    const firstIndex = Number(first.headers['x-raft-index']);
    for (const i of [0, 1, 2]) expect(await identityNames(i, firstIndex)).toContain('before-the-kill');

    const leader = (await cluster.leader())!;
    const oldLeaderId = cluster.node(leader).nodeId;
    await cluster.kill(leader);
    const live = [0, 1, 2].filter((i) => i !== leader);
    let next: number | undefined;
    await waitFor(
      async () => {
        const views = await Promise.all(live.map((i) => cluster.health(i)));
        const at = views.findIndex((v) => v?.role === 'leader' && v.nodeId !== oldLeaderId);
        next = at >= 0 ? live[at] : undefined;
        return next !== undefined;
      },
      'a new leader among the two left',
      20_000,
    );
    const second = await call(live[0]!, 'POST', '/identities', { name: 'after-the-kill' });
    expect(second.status).toBe(201);
    const secondIndex = Number(second.headers['x-raft-index']);
    for (const i of live) {
      expect(await identityNames(i, secondIndex)).toEqual(['after-the-kill', 'before-the-kill']);
    }

    await cluster.restart(leader);
    expect(await identityNames(leader, secondIndex)).toEqual(['after-the-kill', 'before-the-kill']);
    for (const i of [0, 1, 2]) {
      const metrics = await call(i, 'GET', '/metrics');
      expect(metrics.text).not.toMatch(/^meshdesk_peer_refused_connections\{/m);
    }
  });
});
