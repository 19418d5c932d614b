/**
 * "Ready means ready" (issue 11): until a node's bootstrap has finished — its first admin and the
 * token signing key are in its model, and a joining node has caught up to its own membership —
 * `GET /health` answers 503 `starting` and login 503 STARTING, never 401 for the right password;
 * once health says `up`, login succeeds at once. Real `meshdesk start` processes, watched from
 * before they listen; then in-process nodes held before bootstrap for the exact answers, and the
 * clients that wait for a node (the CLI's, `--join`, the UI's).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CliClient } from '../../core/cli/api-client.js';
import { prepareJoin } from '../../core/cluster/join.js';
import { AdminApi } from '../../renderer/src/api/admin-api.js';
import { ApiError } from '../../renderer/src/api/problem.js';
import { ADMIN, startBareApiNode, type BareApiNode } from '../support/api-node.js';
import { ADMIN_PASSWORD, ControllerProcess } from '../support/controller-processes.js';
import { watchHttpAnswers } from '../support/http-answers.js';
import { freePort } from '../support/kv-cluster.js';
import { testJoinToken } from '../support/test-pki.js';
import { useTempDir } from '../support/temp-dir.js';
import { waitFor } from '../support/wait.js';

/** Every field health has, whatever the node's state. */
const HEALTH_FIELDS = [
  'status',
  'nodeId',
  'name',
  'clusterId',
  'role',
  'leaderId',
  'term',
  'commitIndex',
  'appliedIndex',
  'lastIndex',
];

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON of health or login
  readonly body: any;
}

/** One request; undefined while nothing listens on the port yet. */
async function ask(url: string, init?: RequestInit): Promise<Answer | undefined> {
  let response: Response;
  try {
    response = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  } catch (err) {
    if ((err as { cause?: { code?: string } }).cause?.code === 'ECONNREFUSED') return undefined;
    throw err;
  }
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}

const login = (base: string): Promise<Answer | undefined> =>
  ask(`${base}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
  });

interface Startup {
  /** Requests refused because nothing listened yet: proof that watching began first. */
  readonly refused: number;
  readonly health: Answer[];
  readonly logins: Answer[];
  /** The first health answer that said 200 (up), and the login sent the moment it came. */
  readonly up: Answer;
  readonly loginAfterUp: Answer;
}

/**
 * Polls health and logs in with the right password, concurrently and back to back, from before
 * the node listens until health says up (bounded); then logs in once more at once.
 */
async function watchStartup(base: string, starting: Promise<void>, boundMs = 90_000): Promise<Startup> {
  const deadline = Date.now() + boundMs;
  let exited: unknown;
  starting.catch((err: unknown) => (exited = err));
  const health: Answer[] = [];
  const logins: Answer[] = [];
  let refused = 0;
  let up: Answer | undefined;
  // Until the port listens, a refused connection comes back at once: pace those few.
  const notYet = () => new Promise((resolve) => setTimeout(resolve, 5));
  const check = (): void => {
    if (exited) throw new Error(`the node did not start: ${String(exited)}`);
    if (Date.now() > deadline) throw new Error(`health did not say up within ${boundMs} ms`);
  };
  const pollHealth = async (): Promise<void> => {
    while (!up) {
      check();
      const answer = await ask(`${base}/api/v1/health`);
      if (!answer) {
        refused++;
        await notYet();
        continue;
      }
      health.push(answer);
      // Any 200 is the node saying it serves; what it says is checked after.
      if (answer.status === 200) up = answer;
    }
  };
  const pollLogin = async (): Promise<void> => {
    while (!up) {
      check();
      const answer = await login(base);
      if (!answer) {
        refused++;
        await notYet();
        continue;
      }
      logins.push(answer);
    }
  };
  await Promise.all([pollHealth(), pollLogin()]);
  const loginAfterUp = await login(base);
  if (!up || !loginAfterUp) throw new Error('no answer once up');
  return { refused, health, logins, up, loginAfterUp };
}

/** What every startup must show, whichever way the node starts. */
function expectReadyMeansReady(startup: Startup): void {
  expect(startup.refused, 'watching began before the node listened').toBeGreaterThan(0);
  for (const answer of startup.logins) {
    expect(answer.status, JSON.stringify(answer.body)).not.toBe(401);
    if (answer.status === 200) continue;
    expect(answer.status).toBe(503);
    expect(answer.headers.get('content-type')).toContain('application/problem+json');
    expect(answer.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(answer.body).toMatchObject({ status: 503, code: 'STARTING' });
  }
  for (const answer of startup.health) {
    expect(Object.keys(answer.body).sort()).toEqual([...HEALTH_FIELDS].sort());
    if (answer.body.status === 'up') expect(answer.status).toBe(200);
    else {
      expect([answer.status, answer.body.status]).toEqual([503, 'starting']);
      expect(answer.headers.get('retry-after')).toMatch(/^\d+$/);
    }
  }
  expect(startup.up.body.status).toBe('up');
  expect(startup.loginAfterUp.status, JSON.stringify(startup.loginAfterUp.body)).toBe(200);
  expect(typeof startup.loginAfterUp.body.token).toBe('string');
}

describe('a node starting for real', () => {
  let root: string | undefined;
  const nodes: ControllerProcess[] = [];
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.stop()));
    if (root) await rm(root, { recursive: true, force: true });
    root = undefined;
  });
  const newNode = async (name: string): Promise<ControllerProcess> => {
    root ??= await mkdtemp(join(tmpdir(), 'meshdesk-ready-'));
    const node = new ControllerProcess(name, join(root, name), await freePort(), await freePort());
    nodes.push(node);
    return node;
  };

  it('with --bootstrap says starting, never refuses the right password, and logs in once up', async () => {
    const node = await newNode('node-0');
    const startup = await watchStartup(node.url, node.launch(['start', '--bootstrap']));
    expectReadyMeansReady(startup);
    expect(startup.health.some((a) => a.body.status === 'starting')).toBe(true);
    expect(startup.logins.some((a) => a.status === 503)).toBe(true);
    expect(startup.up.body.role).toBe('leader');
  }, 120_000);

  it('with --join says starting until it has caught up with the cluster it joins', async () => {
    const first = await newNode('node-0');
    await first.start(['--bootstrap']);
    const token = (await login(first.url))?.body.token as string;
    for (let i = 0; i < 20; i++) {
      const created = await ask(`${first.url}/api/v1/identities`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ name: `before-join-${i}` }),
      });
      expect(created?.status).toBe(201);
    }
    const written = (await ask(`${first.url}/api/v1/health`))?.body.commitIndex as number;

    const invited = await ask(`${first.url}/api/v1/cluster/invitations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: '{}',
    });
    const second = await newNode('node-1');
    const startup = await watchStartup(
      second.url,
      second.launch(['start'], { MESHDESK_JOIN_TOKEN: invited?.body.token as string }),
    );
    expectReadyMeansReady(startup);
    expect(startup.health.some((a) => a.body.status === 'starting')).toBe(true);
    // Up means caught up: everything written before it joined has applied there.
    expect(startup.up.body.appliedIndex).toBeGreaterThanOrEqual(written);
    expect(startup.up.body.clusterId).toBe((await ask(`${first.url}/api/v1/health`))?.body.clusterId);
    const list = await ask(`${second.url}/api/v1/identities?limit=100`, {
      headers: { authorization: `Bearer ${startup.loginAfterUp.body.token as string}` },
    });
    expect(list?.body.meta.total).toBe(20);
  }, 120_000);
});

describe('a node held before bootstrap', () => {
  const dir = useTempDir();
  let api: BareApiNode | undefined;
  afterEach(async () => {
    await api?.stop();
    api = undefined;
  });

  it('answers health 503 starting and login 503 STARTING until its first admin exists', async () => {
    const a = (api = await startBareApiNode(dir(), { loginGuard: { freeFailures: 2 } }));
    await waitFor(() => a.node.replica.status().role === 'leader', 'the node to lead');
    const health = await a.call('GET', '/health');
    expect(health.status).toBe(503);
    expect(health.headers.get('retry-after')).toBe('1');
    expect(health.body).toMatchObject({
      status: 'starting',
      nodeId: a.node.id,
      clusterId: a.node.clusterId,
      role: 'leader',
      leaderId: a.node.id,
    });
    expect(Object.keys(health.body).sort()).toEqual([...HEALTH_FIELDS].sort());
    // Right, wrong or unknown: nothing is checked yet, and nothing counts as a failed login.
    for (const body of [ADMIN, { ...ADMIN, password: 'wrong' }, { username: 'ghost', password: 'x' }]) {
      const refused = await a.call('POST', '/auth/login', { body });
      expect(refused.status).toBe(503);
      expect(refused.contentType).toContain('application/problem+json');
      expect(refused.headers.get('retry-after')).toBe('1');
      expect(refused.body).toMatchObject({ status: 503, code: 'STARTING', title: 'Service Unavailable' });
    }
    expect((await a.call('POST', '/auth/login', { body: { username: 'admin' } })).status).toBe(400);

    await a.createFirstAdmin();
    const up = await a.call('GET', '/health');
    expect([up.status, up.body.status]).toEqual([200, 'up']);
    expect(up.headers.get('retry-after')).toBeNull();
    const token = await a.call('POST', '/auth/login', { body: ADMIN });
    expect(token.status).toBe(200);
    expect((await a.call('GET', '/identities', { token: token.body.token as string })).status).toBe(200);
    // Wrong passwords are checked, and refused as such, now that the node is up.
    for (let i = 0; i < 2; i++) {
      const wrong = await a.call('POST', '/auth/login', { body: { ...ADMIN, password: 'wrong' } });
      expect(wrong.status).toBe(401);
    }
  });

  it('stays starting, admin or not, until the composition root has finished starting it', async () => {
    let started = false;
    const a = (api = await startBareApiNode(dir(), {}, () => started));
    await a.createFirstAdmin();
    expect((await a.call('GET', '/health')).body.status).toBe('starting');
    expect((await a.call('POST', '/auth/login', { body: ADMIN })).body.code).toBe('STARTING');
    started = true;
    expect((await a.call('GET', '/health')).body.status).toBe('up');
    expect((await a.call('POST', '/auth/login', { body: ADMIN })).status).toBe(200);
  });

  it('makes the CLI wait through STARTING (as Retry-After says) and then log in', async () => {
    const a = (api = await startBareApiNode(dir()));
    const answers = watchHttpAnswers();
    try {
      const client = new CliClient(a.url, { password: ADMIN.password });
      const status = client.request<{ clusterId: string }>('GET', '/cluster');
      await waitFor(
        () => answers.seen.some((s) => s.path === '/api/v1/auth/login' && s.status === 503),
        'the CLI to meet a starting node',
      );
      await a.createFirstAdmin();
      expect((await status).data.clusterId).toBe(a.node.clusterId);
    } finally {
      answers.stop();
    }
  });

  it('lets the CLI give up on a node that stays starting, saying so in one line', async () => {
    const a = (api = await startBareApiNode(dir()));
    const client = new CliClient(a.url, { password: ADMIN.password }, { startingWaitMs: 0 });
    await expect(client.request('GET', '/cluster')).rejects.toThrow(
      /^POST \/auth\/login failed \(503\): this node is still starting/,
    );
  });

  it('makes --join wait until the member it asks says up', async () => {
    const a = (api = await startBareApiNode(dir()));
    const answers = watchHttpAnswers();
    try {
      let settled = false;
      // Signed by the CA the bare node is about to hold (its first admin's batch installs it).
      const token = await testJoinToken(a.node.clusterId, { member: a.url });
      const prepared = prepareJoin({ token, timeoutMs: 30_000 }).finally(() => (settled = true));
      await waitFor(
        // Its first question is the CA to pin; a starting member has none to give yet.
        () => answers.seen.some((s) => s.path === '/api/v1/cluster/ca' && s.status === 503),
        'the joining node to meet a starting member',
      );
      expect(settled).toBe(false);
      await a.createFirstAdmin();
      expect((await prepared).clusterId).toBe(a.node.clusterId);
    } finally {
      answers.stop();
    }
  });

  it('gives the UI the starting health, and signs it in once the node is up', async () => {
    const a = (api = await startBareApiNode(dir()));
    const ui = new AdminApi({ baseUrl: a.url, getToken: () => null });
    expect(await ui.health()).toMatchObject({ status: 'starting', nodeId: a.node.id });
    const refused = (await ui.login(ADMIN.username, ADMIN.password).catch((e: unknown) => e)) as ApiError;
    expect(refused).toBeInstanceOf(ApiError);
    expect([refused.status, refused.problem.code, refused.retryAfter]).toEqual([503, 'STARTING', 1]);

    const waits: ApiError[] = [];
    const result = await ui.loginWhenReady(ADMIN.username, ADMIN.password, {
      onStarting: (error) => {
        // The first wait is the moment to finish bootstrap: the next attempt must get in.
        if (waits.push(error) === 1) void a.createFirstAdmin();
      },
    });
    expect(typeof result.token).toBe('string');
    expect(waits.length).toBeGreaterThanOrEqual(1);
    expect(waits.every((e) => e.problem.code === 'STARTING')).toBe(true);
    expect(await ui.health()).toMatchObject({ status: 'up' });
  });

  it('lets the UI stop waiting after its bound, with the starting problem', async () => {
    const a = (api = await startBareApiNode(dir()));
    const ui = new AdminApi({ baseUrl: a.url, getToken: () => null });
    const error = (await ui
      .loginWhenReady(ADMIN.username, ADMIN.password, { timeoutMs: 0 })
      .catch((e: unknown) => e)) as ApiError;
    expect([error.status, error.problem.code]).toEqual([503, 'STARTING']);
  });
});
