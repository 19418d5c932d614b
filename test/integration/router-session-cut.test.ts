/**
 * A router the model no longer admits loses its live session: disabling, renaming or deleting it
 * (as an admin does, through the API) closes its connection to the controller, the controller
 * says why in its log and counts it, and the router's reconnections are refused until it is
 * admitted again. One controller in-process, one real router agent over TLS.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startController, type Controller } from '../../core/controller.js';
import { readSetting, ROUTER_SECRET_SETTING } from '../../core/model/settings.js';
import { RouterAgent } from '../../core/router/router-agent.js';
import { callController, loginToController } from '../support/controller-api.js';
import { collectingLogger, type LogLine } from '../support/log-lines.js';
import { waitFor } from '../support/wait.js';

const PASSWORD = 'session-cut-admin-pw';

describe('a router the model no longer admits', () => {
  let dir: string;
  let controller: Controller;
  let router: RouterAgent;
  let token: string;
  let routerId: string;
  const warnings: LogLine[] = [];

  const call = (method: string, path: string, body?: unknown): Promise<Response> =>
    callController(controller.url, method, path, { token, body });

  const connected = (): boolean => controller.runtime.channel.connected(routerId);
  const routerSeesController = (): boolean => router.controllers.status().some((c) => c.connected);
  const cuts = (): LogLine[] => warnings.filter((w) => w.message.startsWith('router session cut'));

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'meshdesk-session-cut-'));
    controller = await startController({
      dataDir: dir,
      api: { host: '127.0.0.1', port: 0 },
      cluster: { host: '127.0.0.1', port: 0 },
      bootstrap: { adminPassword: PASSWORD },
      logger: collectingLogger(warnings, 'warn'),
    });
    token = await loginToController(controller.url, 'admin', PASSWORD);
    const created = await call('POST', '/routers', { name: 'edge-1' });
    expect(created.status).toBe(201);
    routerId = ((await created.json()) as { id: string }).id;
    router = await RouterAgent.start({
      name: 'edge-1',
      controllers: [`https://127.0.0.1:${controller.node.clusterPort}`],
      credentials: {
        kind: 'secret',
        secret: readSetting(controller.model.model, ROUTER_SECRET_SETTING) ?? '',
        ca: readFileSync(join(dir, 'tls', 'ca.pem'), 'utf8'),
      },
      heartbeatMs: 100,
    });
    await waitFor(async () => connected() && routerSeesController(), 'the router connected');
  });

  afterAll(async () => {
    await router?.close();
    await controller?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('is cut when disabled, and comes back once enabled again', async () => {
    const before = controller.runtime.status().sessionsCut;
    expect((await call('PATCH', `/routers/${routerId}`, { disabled: true })).status).toBe(200);
    // The apply that disabled it cut the session: nothing left to wait for on the controller.
    expect(connected()).toBe(false);
    expect(controller.runtime.status().sessionsCut).toBe(before + 1);
    expect(controller.runtime.status().routers).toEqual([]);
    expect(cuts().at(-1)?.details).toEqual(expect.objectContaining({ router: 'edge-1', why: 'disabled' }));
    await waitFor(async () => !routerSeesController(), 'the router saw its session end');
    // Its reconnections are refused while it stays disabled.
    const refused = controller.runtime.status().refusedHandshakes;
    await waitFor(
      async () => controller.runtime.status().refusedHandshakes > refused,
      'a reconnection refused',
    );
    expect(connected()).toBe(false);

    expect((await call('PATCH', `/routers/${routerId}`, { disabled: false })).status).toBe(200);
    await waitFor(async () => connected() && routerSeesController(), 'the router back');
  });

  it('is cut when a snapshot restore disables it, which no apply announces', async () => {
    expect((await call('PATCH', `/routers/${routerId}`, { disabled: true })).status).toBe(200);
    const disabled = controller.model.snapshot();
    expect((await call('PATCH', `/routers/${routerId}`, { disabled: false })).status).toBe(200);
    await waitFor(async () => connected(), 'the router back');
    const before = controller.runtime.status().sessionsCut;
    // What a follower does when the leader sends it a snapshot: the model is replaced at once.
    controller.model.restore(disabled);
    await waitFor(async () => !connected(), 'the session cut on the next tick');
    expect(controller.runtime.status().sessionsCut).toBe(before + 1);
    expect((await call('PATCH', `/routers/${routerId}`, { disabled: false })).status).toBe(200);
    await waitFor(async () => connected(), 'the router back');
  });

  it('is cut when renamed: it proved the old name', async () => {
    expect((await call('PATCH', `/routers/${routerId}`, { name: 'edge-1-renamed' })).status).toBe(200);
    expect(connected()).toBe(false);
    expect(cuts().at(-1)?.details).toEqual(
      expect.objectContaining({ router: 'edge-1', why: 'deleted or renamed' }),
    );
    expect((await call('PATCH', `/routers/${routerId}`, { name: 'edge-1' })).status).toBe(200);
    await waitFor(async () => connected(), 'the router back under its name');
  });

  it('is cut when deleted', async () => {
    const before = controller.runtime.status().sessionsCut;
    expect((await call('DELETE', `/routers/${routerId}`)).status).toBe(204);
    expect(connected()).toBe(false);
    expect(controller.runtime.status().sessionsCut).toBe(before + 1);
    await waitFor(async () => !routerSeesController(), 'the router saw its session end');
  });
});
