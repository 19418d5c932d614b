/**
 * The API's contract against a real cluster of three `meshdesk start` processes, formed the way an
 * admin forms one (bootstrap, then --join with a token each): forwarded writes with read-your-writes, read points on
 * other nodes, idempotent retries across nodes, compare-and-set under concurrent writers, cluster
 * operations, and 503 when there is no leader.
 */
import { stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeyAndCsr } from '../../core/pki/ca.js';
import { ControllerCluster, ControllerProcess } from '../support/controller-processes.js';
import { freePort } from '../support/kv-cluster.js';
import { testJoinToken } from '../support/test-pki.js';
import { waitFor } from '../support/wait.js';

let cluster: ControllerCluster;
let leader: number;
let followers: number[];

beforeAll(async () => {
  cluster = await ControllerCluster.start(3);
  leader = await cluster.leaderIndex();
  followers = [0, 1, 2].filter((i) => i !== leader);
}, 180_000);

afterAll(async () => {
  await cluster?.close();
});

const follower = (k: number): number => followers[k] as number;

describe('a cluster formed with --bootstrap and --join', () => {
  it('has three voters, one leader, and every member’s API URL', async () => {
    const { status, body } = await cluster.call(follower(0), 'GET', '/cluster');
    expect(status).toBe(200);
    expect(body.members).toHaveLength(3);
    expect(body.members.filter((m: { voter: boolean }) => m.voter)).toHaveLength(3);
    expect(body.members.filter((m: { leader: boolean }) => m.leader)).toHaveLength(1);
    const urls = body.members.map((m: { apiUrl: string }) => m.apiUrl).sort();
    expect(urls).toEqual(cluster.nodes.map((n) => n.url).sort());
  });
});

describe('writes and reads across nodes', () => {
  it('forwards a write taken by a follower and answers once it is readable there', async () => {
    const created = await cluster.call(follower(0), 'POST', '/identities', { name: 'fwd-1' });
    expect(created.status).toBe(201);
    const index = Number(created.headers.get('x-raft-index'));
    const read = await cluster.call(follower(0), 'GET', `/identities/${created.body.id}`);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ name: 'fwd-1', revision: 1 });
    // The follower answered once the write applied there, and nothing was proposed since.
    expect(Number(read.headers.get('x-raft-index'))).toBe(index);
    const next = await cluster.call(follower(0), 'POST', '/identities', { name: 'fwd-2' });
    expect(next.status).toBe(201);
    expect(Number(next.headers.get('x-raft-index'))).toBe(index + 1);
  });

  it('serves a read at minIndex on another node', async () => {
    const created = await cluster.call(leader, 'POST', '/identities', { name: 'min-index-1' });
    const index = created.headers.get('x-raft-index');
    const read = await cluster.call(follower(1), 'GET', `/identities/${created.body.id}?minIndex=${index}`);
    expect(read.status).toBe(200);
    expect(read.body.name).toBe('min-index-1');
    expect(read.headers.get('x-raft-index')).toBe(index);
  });

  it('serves a linearizable read on a follower', async () => {
    const created = await cluster.call(follower(0), 'POST', '/services', { name: 'lin-1' });
    const read = await cluster.call(
      follower(1),
      'GET',
      `/services/${created.body.id}?consistency=linearizable`,
    );
    expect(read.status).toBe(200);
    // The leader's commit index is the write's own: the read is at exactly that point.
    expect(read.headers.get('x-raft-index')).toBe(created.headers.get('x-raft-index'));
  });

  it('applies a retried write once, whichever node the retry reaches', async () => {
    const key = { 'idempotency-key': 'retry-across-nodes-1' };
    const first = await cluster.call(follower(0), 'POST', '/identities', { name: 'idem-1' }, key);
    const retry = await cluster.call(follower(1), 'POST', '/identities', { name: 'idem-1' }, key);
    const again = await cluster.call(leader, 'POST', '/identities', { name: 'idem-1' }, key);
    expect(first.status).toBe(201);
    expect(retry.body.id).toBe(first.body.id);
    expect(again.body.id).toBe(first.body.id);
    const list = await cluster.call(
      leader,
      'GET',
      `/identities?filter=${encodeURIComponent('name = "idem-1"')}`,
    );
    expect(list.body.meta.total).toBe(1);
  });

  it('lets exactly one of several concurrent If-Match writers win', async () => {
    const created = await cluster.call(leader, 'POST', '/identities', { name: 'cas-1' });
    const attempts = await Promise.all(
      Array.from({ length: 9 }, (_, k) =>
        cluster.call(
          k % 3,
          'PATCH',
          `/identities/${created.body.id}`,
          { name: `cas-1-by-${k}` },
          { 'if-match': '1' },
        ),
      ),
    );
    const statuses = attempts.map((a) => a.status).sort();
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 412)).toHaveLength(8);
    const losers = attempts.filter((a) => a.status === 412).map((a) => a.body.code);
    expect(losers).toEqual(Array.from({ length: 8 }, () => 'REVISION_MISMATCH'));
    const read = await cluster.call(
      follower(0),
      'GET',
      `/identities/${created.body.id}?consistency=linearizable`,
    );
    expect(read.body.revision).toBe(2);
  });
});

describe('admin sessions across nodes', () => {
  it('verify a token any node signed on every node, and end it everywhere on a new password', async () => {
    const created = await cluster.call(leader, 'POST', '/admins', {
      username: 'night',
      password: 'night shift 1',
    });
    expect(created.status).toBe(201);
    // Login reads the admin locally: the follower must have applied its creation first.
    const index = created.headers.get('x-raft-index');
    expect(
      (await cluster.call(follower(0), 'GET', `/admins/${created.body.id}?minIndex=${index}`)).status,
    ).toBe(200);
    // Signed by a follower with its own key, published by this first login there.
    const login = await cluster.call(
      follower(0),
      'POST',
      '/auth/login',
      {
        username: 'night',
        password: 'night shift 1',
      },
      {},
      false,
    );
    expect(login.status, JSON.stringify(login.body)).toBe(200);
    const token = login.body.token as string;
    const asNight = (i: number) =>
      cluster.call(i, 'GET', '/identities', undefined, { authorization: `Bearer ${token}` }, false);
    for (const i of [0, 1, 2]) expect((await asNight(i)).status).toBe(200);
    const events = io(`${cluster.node(follower(1)).url}/events`, {
      auth: { token },
      transports: ['websocket'],
      reconnection: false,
    });
    await new Promise<void>((resolve) => events.once('connect', () => resolve()));

    const changed = await cluster.call(leader, 'PATCH', `/admins/${created.body.id}`, {
      password: 'night shift 2',
    });
    expect(changed.status).toBe(200);
    for (const i of [0, 1, 2]) {
      await waitFor(
        async () => (await asNight(i)).body?.code === 'SESSION_ENDED',
        `node ${i} to end the session`,
      );
    }
    await waitFor(() => !events.connected, 'the live events on a follower to close');
    events.close();
  });
});

describe('cluster operations', () => {
  it('takes a snapshot on the node asked', async () => {
    const created = await cluster.call(leader, 'POST', '/identities', { name: 'snap-1' });
    const index = created.headers.get('x-raft-index');
    // Once the node asked has applied the write, the write is the last entry it holds.
    const read = await cluster.call(follower(1), 'GET', `/identities/${created.body.id}?minIndex=${index}`);
    expect(read.headers.get('x-raft-index')).toBe(index);
    const { status, headers, body } = await cluster.call(follower(1), 'POST', '/cluster/snapshot');
    expect(status).toBe(200);
    expect(body.index).toBe(Number(index));
    expect(headers.get('x-raft-index')).toBe(index);
  });

  it('transfers leadership to the member named, asked through a follower', async () => {
    const to = follower(0);
    const toId = (await cluster.call(to, 'GET', '/health', undefined, {}, false)).body.nodeId;
    const moved = await cluster.call(follower(1), 'POST', '/cluster/transfer-leadership', { to: toId });
    expect(moved.status).toBe(200);
    expect(moved.body.leaderId).toBe(toId);
    expect(await cluster.leaderIndex()).toBe(to);
    leader = to;
    followers = [0, 1, 2].filter((i) => i !== leader);
  });

  it('refuses to remove a member that does not exist, with a problem', async () => {
    const { status, headers, body } = await cluster.call(leader, 'DELETE', '/cluster/members/nobody');
    expect(status).toBe(404);
    expect(headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(body.detail).toMatch(/nobody/);
    expect(body.code).toBe('UNKNOWN_MEMBER');
  });
});

describe('join tokens across members', () => {
  const newcomer = async (name: string): Promise<ControllerProcess> =>
    new ControllerProcess(name, join(cluster.root, name), await freePort(), await freePort());

  it('spend a token once when two members are handed it at the same moment', async () => {
    const token = (await cluster.call(0, 'POST', '/cluster/invitations', {})).body.token as string;
    const answers = await Promise.all(
      ['n-race-a', 'n-race-b'].map(async (id, k) =>
        cluster.call(
          follower(k),
          'POST',
          '/cluster/join',
          { token, id, host: '127.0.0.1', csr: (await createKeyAndCsr(id)).csrPem },
          {},
          false,
        ),
      ),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([201, 410]);
    const loser = answers.find((a) => a.status === 410);
    expect(loser?.body.code).toBe('INVITATION_USED');
  });

  it('refuse a joiner whose token pins another CA or has expired, in one line, before it asks anything', async () => {
    const { clusterId } = (await cluster.call(0, 'GET', '/cluster')).body as { clusterId: string };
    const before = (await cluster.call(0, 'GET', '/cluster/invitations')).body.data.length as number;
    const cases = [
      [
        await testJoinToken(clusterId, { member: cluster.node(0).url }),
        /presents a cluster CA whose fingerprint is .* not the join token's/,
      ],
      [
        await testJoinToken(clusterId, {
          member: cluster.node(0).url,
          expiresAt: new Date(Date.now() - 1000).toISOString(),
        }),
        /the join token expired at/,
      ],
    ] as const;
    for (const [token, message] of cases) {
      const node = await newcomer('refused');
      await expect(node.start([], { MESHDESK_JOIN_TOKEN: token })).rejects.toThrow(message);
      await expect(stat(join(node.dataDir, 'tls', 'node.pem'))).rejects.toThrow(/ENOENT/);
    }
    expect((await cluster.call(0, 'GET', '/cluster/invitations')).body.data).toHaveLength(before);
    expect((await cluster.call(0, 'GET', '/cluster')).body.members).toHaveLength(3);
  });

  it('exit at once, in one line, with a revoked token, leaving nothing that blocks a retry with a new one', async () => {
    const minted = (await cluster.call(0, 'POST', '/cluster/invitations', {})).body as {
      token: string;
      invitation: { id: string };
    };
    expect((await cluster.call(0, 'DELETE', `/cluster/invitations/${minted.invitation.id}`)).status).toBe(
      200,
    );
    const node = await newcomer('second-try');
    await expect(node.start([], { MESHDESK_JOIN_TOKEN: minted.token })).rejects.toThrow(
      /meshdesk start: .*refused .*revoked/,
    );
    await expect(stat(join(node.dataDir, 'tls', 'node.pem'))).rejects.toThrow(/ENOENT/);
    const fresh = (await cluster.call(0, 'POST', '/cluster/invitations', {})).body.token as string;
    try {
      await node.start([], { MESHDESK_JOIN_TOKEN: fresh });
      const members = (await cluster.call(0, 'GET', '/cluster')).body.members as {
        id: string;
        name: string;
      }[];
      const joined = members.find((m) => m.name === 'second-try');
      expect(joined).toBeDefined();
      expect((await cluster.call(0, 'DELETE', `/cluster/members/${joined?.id ?? ''}`)).status).toBe(200);
    } finally {
      await node.stop();
    }
  }, 60_000);

  it('let a node whose start failed after its token was spent finish joining on its next start', async () => {
    const token = (await cluster.call(0, 'POST', '/cluster/invitations', {})).body.token as string;
    const node = await newcomer('interrupted');
    // Its API port is taken: it gets its certificate, then cannot serve, so it never asks to be added.
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(node.apiPort, '127.0.0.1', resolve));
    try {
      await expect(node.start([], { MESHDESK_JOIN_TOKEN: token })).rejects.toThrow(/EADDRINUSE/);
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
    expect((await stat(join(node.dataDir, 'tls', 'node.pem'))).isFile()).toBe(true);
    expect((await cluster.call(0, 'GET', '/cluster')).body.members).toHaveLength(3);
    try {
      // The same (spent) token names the member and CA; the node now asks as itself.
      await node.start([], { MESHDESK_JOIN_TOKEN: token });
      const members = (await cluster.call(0, 'GET', '/cluster')).body.members as {
        name: string;
        voter: boolean;
      }[];
      expect(members.find((m) => m.name === 'interrupted')?.voter).toBe(true);
      const id = (await cluster.call(0, 'GET', '/cluster')).body.members.find(
        (m: { name: string }) => m.name === 'interrupted',
      ).id as string;
      expect((await cluster.call(0, 'DELETE', `/cluster/members/${id}`)).status).toBe(200);
    } finally {
      await node.stop();
    }
  }, 60_000);
});

describe('with a member down', () => {
  it('shows it unreachable and refuses at once to hand it the lead, naming it', async () => {
    const down = follower(1);
    const downId = (await cluster.call(down, 'GET', '/health', undefined, {}, false)).body.nodeId as string;
    await cluster.node(down).kill();
    interface Member {
      id: string;
      name: string;
      reachable: boolean;
    }
    const seenFrom = async (i: number) =>
      ((await cluster.call(i, 'GET', '/cluster')).body.members as Member[]).find((m) => m.id === downId);
    await waitFor(
      async () => (await seenFrom(leader))?.reachable === false,
      'the leader sees it down',
      15_000,
    );
    await waitFor(
      async () => (await seenFrom(follower(0)))?.reachable === false,
      'a follower sees it down',
      15_000,
    );
    const name = (await seenFrom(leader))?.name as string;

    // Asked through the other follower too: the leader refuses, the follower passes the refusal on.
    for (const via of [leader, follower(0)]) {
      const refused = await cluster.call(via, 'POST', '/cluster/transfer-leadership', { to: downId });
      expect(refused.status).toBe(409);
      expect(refused.body.code).toBe('MEMBER_UNREACHABLE');
      expect(refused.body.detail).toMatch(
        new RegExp(
          `^${name} is unreachable \\(last heard from \\d+ (ms|s) ago\\); leadership can only move to a member that is up$`,
        ),
      );
    }
    // Without a target, the lead goes to the member that is up.
    const moved = await cluster.call(leader, 'POST', '/cluster/transfer-leadership', {});
    expect(moved.status).toBe(200);
    expect(moved.body.leaderId).not.toBe(downId);
    const live = [leader, follower(0)];
    leader = await cluster.leaderIndex(live);
    // follower(0) stays the live follower, follower(1) the one down.
    followers = [live.find((i) => i !== leader) as number, down];
  }, 60_000);
});

describe('without a leader', () => {
  it('answers a write with 503 and Retry-After, promising it was never proposed', async () => {
    const survivor = follower(0);
    await cluster.node(leader).kill();
    await cluster.node(follower(1)).kill();
    await waitFor(
      async () => {
        const health = await cluster.call(survivor, 'GET', '/health', undefined, {}, false);
        return health.body.role !== 'leader' && health.body.leaderId === '';
      },
      'the survivor knows it has no leader',
      15_000,
    );
    const { status, headers, body } = await cluster.call(survivor, 'POST', '/identities', { name: 'lost-1' });
    expect(status).toBe(503);
    expect(headers.get('retry-after')).toMatch(/^\d+$/);
    expect(body).toMatchObject({ status: 503, code: 'NO_LEADER' });
    const list = await cluster.call(
      survivor,
      'GET',
      `/identities?filter=${encodeURIComponent('name = "lost-1"')}`,
    );
    expect(list.body.meta.total).toBe(0);
  }, 60_000);
});
