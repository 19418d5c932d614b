/**
 * Runtime data with real processes on loopback: 3 controllers (`meshdesk start`) and 6 routers
 * (`meshdesk router --identity`, each enrolled for its own certificate) in a full mesh of links
 * over mutual TLS. Routers know each other by id; the controllers show names. Each router's status
 * endpoint (HTTPS, to its own certificate) shows its links, routes and controllers; a probe sent
 * along a circuit's links shows that its routes work.
 *
 * The processes start once (about 20 s): each test waits for what it needs of them (the mesh, a
 * router connected) and carries nothing to the next. A circuit's life is one scenario, one test:
 * each step (created, rerouted around a cut link, kept working when its owner dies) starts from
 * the state the last one left, and it cuts links and kills a controller, so it comes last.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enrollRouter } from '../../core/router/enrollment.js';
import { writeRouterIdentity, type RouterIdentity } from '../../core/router/identity.js';
import { ControllerCluster } from '../support/controller-processes.js';
import { freePort } from '../support/kv-cluster.js';
import { waitFor } from '../support/wait.js';

const BIN = new URL('../../bin/meshdesk.js', import.meta.url).pathname;
const ROUTERS = ['r1', 'r2', 'r3', 'r4', 'r5', 'r6'];
const MESH_LINKS = (ROUTERS.length * (ROUTERS.length - 1)) / 2;
const FAULTS = { MESHDESK_FAULT_INJECTION: '1' };

interface RouterProcess {
  readonly name: string;
  readonly identity: RouterIdentity;
  readonly port: number;
  readonly proc: ChildProcess;
}

/* eslint-disable @typescript-eslint/no-explicit-any -- JSON bodies of the status endpoint */
async function routerCall(router: RouterProcess, method: string, path: string): Promise<any> {
  // The status endpoint answers the router's own certificate (or a controller's).
  const { key, certificate, ca } = router.identity;
  const dispatcher = new Agent({
    connect: { key, cert: certificate, ca, checkServerIdentity: () => undefined },
  });
  try {
    const response = await undiciFetch(`https://127.0.0.1:${router.port}${path}`, { method, dispatcher });
    return await response.json();
  } finally {
    await dispatcher.close();
  }
}
/* eslint-enable @typescript-eslint/no-explicit-any */

function startRouter(
  name: string,
  port: number,
  controllers: string,
  identityFile: string,
  identity: RouterIdentity,
): Promise<RouterProcess> {
  const proc = spawn(
    process.execPath,
    [
      BIN,
      'router',
      '--identity',
      identityFile,
      '--controllers',
      controllers,
      '--listen',
      `127.0.0.1:${port}`,
    ],
    {
      // Fault injection on: the test cuts links through the routers' /faults/* hooks.
      env: { ...process.env, ...FAULTS },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    proc.stderr.on('data', (chunk: Buffer) => (err = (err + chunk.toString()).slice(-4000)));
    proc.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('ready')) resolve({ name, identity, port, proc });
    });
    proc.once('exit', (code) => reject(new Error(`router ${name} exited (${String(code)}): ${err}`)));
  });
}

describe('runtime: 3 controllers, 6 routers', () => {
  let cluster: ControllerCluster;
  const routers = new Map<string, RouterProcess>();
  const ids: Record<string, string> = {};
  const router = (name: string): RouterProcess => routers.get(name) as RouterProcess;

  const linkSets = async () =>
    Promise.all(
      [0, 1, 2].map(
        async (i) =>
          (await cluster.call(i, 'GET', '/links')).body.data as {
            id: string;
            dialerName: string;
            acceptorName: string;
          }[],
      ),
    );

  const fullMesh = (): Promise<void> =>
    waitFor(
      async () => (await linkSets()).every((links) => links.length === MESH_LINKS),
      'a full mesh on every controller',
      30_000,
      200,
    );

  const connectedTo = (i: number, name: string): Promise<void> =>
    waitFor(
      async () =>
        ((await cluster.call(i, 'GET', '/runtime')).body.routers as { name: string }[]).some(
          (r) => r.name === name,
        ),
      `${name} connected to controller ${i}`,
      10_000,
      100,
    );

  beforeAll(async () => {
    // Fault injection on: the test slows controllers through PUT /runtime/faults.
    cluster = await ControllerCluster.start(3, [], FAULTS);
    const operations = [
      {
        op: 'create',
        collection: 'identities',
        data: { name: 'alice', type: 'User', roleAttributes: ['employees'] },
      },
      { op: 'create', collection: 'identities', data: { name: 'mallory', type: 'User', roleAttributes: [] } },
      { op: 'create', collection: 'services', data: { name: 'wiki', roleAttributes: ['internal'] } },
      ...ROUTERS.map((name) => ({ op: 'create', collection: 'routers', data: { name, cost: 50 } })),
      {
        op: 'create',
        collection: 'service-policies',
        data: {
          name: 'employees-dial',
          type: 'Dial',
          identityRoles: ['#employees'],
          serviceRoles: ['#internal'],
        },
      },
      {
        op: 'create',
        collection: 'edge-router-policies',
        data: { name: 'erp', identityRoles: ['#all'], routerRoles: ['#all'] },
      },
      {
        op: 'create',
        collection: 'service-edge-router-policies',
        data: { name: 'serp', serviceRoles: ['#all'], routerRoles: ['#all'] },
      },
    ];
    const batch = await cluster.call(0, 'POST', '/batch', { operations });
    expect(batch.status).toBe(200);
    const created = batch.body.results as { id: string }[];
    operations.forEach((op, i) => (ids[String(op.data.name)] = created[i]?.id ?? ''));
    const terminator = await cluster.call(0, 'POST', '/terminators', {
      serviceId: ids.wiki,
      routerId: ids.r6,
      address: 'tcp:wiki.internal:80',
    });
    expect(terminator.status).toBe(201);
    const index = terminator.headers.get('x-raft-index');
    for (const i of [1, 2]) await cluster.call(i, 'GET', `/routers?minIndex=${index}`);
    const controllers = cluster.nodes.map((n) => `https://127.0.0.1:${n.clusterPort}`).join(',');
    const ports = await Promise.all(ROUTERS.map(() => freePort()));
    // Each router enrolls for its own certificate (as 'meshdesk router enroll' does).
    const started = await Promise.all(
      ROUTERS.map(async (name, i) => {
        const minted = await cluster.call(0, 'POST', `/routers/${ids[name]}/enrollment`, {});
        const identity = await enrollRouter(minted.body.token as string);
        const file = join(cluster.root, `${name}.json`);
        await writeRouterIdentity(file, identity);
        return startRouter(name, ports[i] as number, controllers, file, identity);
      }),
    );
    for (const r of started) routers.set(r.name, r);
  }, 90_000);

  afterAll(async () => {
    for (const r of routers.values()) r.proc.kill('SIGKILL');
    await cluster?.close();
  });

  it('every controller holds the same full mesh of links, one per pair of routers', async () => {
    await fullMesh();
    const [first, ...others] = await linkSets();
    const idsOf = (links: { id: string }[]) => links.map((l) => l.id).sort();
    for (const links of others) expect(idsOf(links)).toEqual(idsOf(first ?? []));
    // Three controllers asked for every link; each pair still has exactly one.
    const pairs = new Set((first ?? []).map((l) => [l.dialerName, l.acceptorName].sort().join('-')));
    expect(pairs.size).toBe(MESH_LINKS);
    for (const r of routers.values())
      expect((await routerCall(r, 'GET', '/status')).links).toHaveLength(ROUTERS.length - 1);
    for (const i of [0, 1, 2]) expect((await cluster.call(i, 'GET', '/runtime')).body.droppedTotal).toBe(0);
  });

  it('refuses a circuit that policy denies, with the reason', async () => {
    await connectedTo(1, 'r2');
    const answer = await cluster.call(1, 'POST', '/circuits', {
      identity: 'mallory',
      service: 'wiki',
      ingressRouter: 'r2',
    });
    expect(answer.status).toBe(403);
    expect(answer.body).toMatchObject({
      code: 'POLICY_DENIED',
      detail: expect.stringContaining('mallory may not dial wiki'),
    });
  });

  it('a circuit: made through the fastest controller, rerouted around a cut link, outliving its owner', async () => {
    await fullMesh();
    // 1. Created through the fastest controller; routes on the path name that owner.
    for (const i of [0, 1]) {
      expect((await cluster.call(i, 'PUT', '/runtime/faults', { routerDelayMs: 300 })).status).toBe(200);
    }
    const fastId = (await cluster.call(2, 'GET', '/health')).body.nodeId as string;
    await waitFor(
      async () => {
        const { controllers } = await routerCall(router('r1'), 'GET', '/status');
        const rtts = (controllers as { id: string; rttMs: number | null; responsive: boolean }[]).filter(
          (c) => c.id !== fastId,
        );
        return rtts.every((c) => (c.rttMs ?? 0) >= 250);
      },
      'r1 to measure the slowed controllers',
      10_000,
      100,
    );
    const answer = await cluster.call(0, 'POST', '/circuits', {
      identity: 'alice',
      service: 'wiki',
      ingressRouter: 'r1',
    });
    expect(answer.status, JSON.stringify(answer.body)).toBe(201);
    const circuitId = answer.body.id as string;
    const owner = answer.body.owner as string;
    expect(owner).toBe(fastId);
    expect(answer.body.routers).toEqual(['r1', 'r6']);
    for (const name of answer.body.routers as string[]) {
      const { routes } = await routerCall(router(name), 'GET', '/status');
      expect(routes).toContainEqual(expect.objectContaining({ circuitId, owner }));
    }
    expect((await cluster.call(2, 'GET', '/circuits')).body.data).toContainEqual(
      expect.objectContaining({ id: circuitId, owner, ownerName: 'node-2' }),
    );
    // Any member answers for it: the question goes to its owner.
    expect((await cluster.call(0, 'GET', `/circuits/${circuitId}`)).body).toMatchObject({
      id: circuitId,
      owner,
    });
    expect((await cluster.call(0, 'GET', '/circuits?scope=local')).body.data).not.toContainEqual(
      expect.objectContaining({ id: circuitId }),
    );
    // Routers know each other by id.
    expect(await routerCall(router('r1'), 'POST', `/probe?circuit=${circuitId}`)).toEqual({
      ok: true,
      hops: [ids.r1, ids.r6],
    });
    for (const i of [0, 1]) await cluster.call(i, 'PUT', '/runtime/faults', { routerDelayMs: 0 });

    // 2. Rerouted when a link on its path is cut.
    await routerCall(router('r1'), 'POST', `/faults/block?peer=${ids.r6}`);
    let path: string[] = [];
    await waitFor(
      async () => {
        const circuit = (await cluster.call(2, 'GET', `/circuits/${circuitId}`)).body;
        path = circuit.routerNames ?? [];
        return circuit.reroutes >= 1;
      },
      'the owner to reroute the circuit',
      15_000,
      100,
    );
    expect(path).toHaveLength(3);
    expect(path[0]).toBe('r1');
    expect(path[2]).toBe('r6');
    const probe = await routerCall(router('r1'), 'POST', `/probe?circuit=${circuitId}`);
    expect(probe).toEqual({ ok: true, hops: path.map((name) => ids[name]) });
    const events = (await cluster.call(2, 'GET', '/events?since=0')).body.data as {
      type: string;
      id: string;
    }[];
    expect(events).toContainEqual(expect.objectContaining({ type: 'circuit.rerouted', id: circuitId }));
    expect(events).toContainEqual(expect.objectContaining({ type: 'link.down' }));

    // 3. The routes keep working when the owner dies; faults then go to every other controller.
    path = (await cluster.call(2, 'GET', `/circuits/${circuitId}`)).body.routerNames as string[];
    await cluster.node(2).kill();
    await waitFor(
      async () => {
        const { controllers } = await routerCall(router('r1'), 'GET', '/status');
        return (controllers as { id: string; connected: boolean }[]).some(
          (c) => c.id === owner && !c.connected,
        );
      },
      'r1 to notice the owner is gone',
      10_000,
      100,
    );
    expect(await routerCall(router('r1'), 'POST', `/probe?circuit=${circuitId}`)).toEqual({
      ok: true,
      hops: path.map((name) => ids[name]),
    });
    const transit = path[1] as string;
    await routerCall(router('r6'), 'POST', `/faults/block?peer=${ids[transit]}`);
    await waitFor(
      async () => {
        const statuses = await Promise.all([0, 1].map((i) => cluster.call(i, 'GET', '/runtime')));
        return statuses.every((s) => s.body.faultsNotOwned >= 1);
      },
      'the faults to reach both surviving controllers',
      10_000,
      100,
    );
    // New circuits go to a surviving controller.
    const again = await cluster.call(0, 'POST', '/circuits', {
      identity: 'alice',
      service: 'wiki',
      ingressRouter: 'r2',
    });
    expect(again.status, JSON.stringify(again.body)).toBe(201);
    expect(again.body.owner).not.toBe(owner);
    // The dead owner is named, not waited for; a circuit is torn down through whichever member.
    const listed = await cluster.call(0, 'GET', '/circuits');
    expect(listed.body.meta.unreachable).toEqual([owner]);
    const through = again.body.owner === listed.body.data[0]?.owner ? 1 : 0;
    const other =
      (await cluster.call(through, 'GET', '/health')).body.nodeId === again.body.owner
        ? 1 - through
        : through;
    expect((await cluster.call(other, 'DELETE', `/circuits/${again.body.id}`)).status).toBe(200);
    expect((await cluster.call(other, 'GET', `/circuits/${again.body.id}`)).status).toBe(404);
  }, 120_000);

  it('a deleted router: every controller cuts it on the apply, and every router drops its links', async () => {
    // After the circuit scenario: controllers 0 and 1 run. r3 carries a circuit as its ingress.
    await connectedTo(0, 'r3');
    await connectedTo(1, 'r3');
    const made = await cluster.call(0, 'POST', '/circuits', {
      identity: 'alice',
      service: 'wiki',
      ingressRouter: 'r3',
    });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    const deleted = await cluster.call(0, 'DELETE', `/routers/${ids.r3}`);
    expect(deleted.status).toBe(204);
    const index = deleted.headers.get('x-raft-index');
    // Once a member applied the delete, its session with r3 is gone: nothing to wait for.
    for (const i of [0, 1]) {
      await cluster.call(i, 'GET', `/routers?minIndex=${index}`); // the delete applied there
      const runtime = (await cluster.call(i, 'GET', '/runtime')).body;
      expect((runtime.routers as { name: string }[]).map((r) => r.name)).not.toContain('r3');
    }
    for (const name of ['r1', 'r2', 'r4', 'r5', 'r6']) {
      await waitFor(
        async () =>
          ((await routerCall(router(name), 'GET', '/status')).links as { peer: string }[]).every(
            (l) => l.peer !== ids.r3,
          ),
        `${name} to drop its link to r3`,
        10_000,
        100,
      );
    }
  }, 60_000);
});
