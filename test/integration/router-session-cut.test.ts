/**
 * A router the model no longer admits loses its live session: disabling or deleting it (as an
 * admin does, through the API) closes its connection to the controller on the apply, the
 * controller says why in its log and counts it, and the router's reconnections are refused until
 * it is admitted again (enabled, and enrolled anew: disabling revoked its certificate). One
 * controller in-process, one real router agent on its own certificate.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startController, type Controller } from '../../core/controller.js';
import type { RouterAgent } from '../../core/router/router-agent.js';
import { callController, loginToController } from '../support/controller-api.js';
import { createEnrolledRouter, enrollThrough, startEnrolledRouter } from '../support/enrolled-routers.js';
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

  /** Enabled again is not enough: the router enrolls anew and runs on its new certificate. */
  async function reenrolled(): Promise<void> {
    expect((await call('PATCH', `/routers/${routerId}`, { disabled: false })).status).toBe(200);
    await router.close();
    router = await startEnrolledRouter(await enrollThrough(controller.url, token, routerId), {
      heartbeatMs: 100,
    });
    await waitFor(async () => connected() && routerSeesController(), 'the router back');
  }

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
    const identity = await createEnrolledRouter(controller.url, token, 'edge-1');
    routerId = identity.router.id;
    router = await startEnrolledRouter(identity, { heartbeatMs: 100 });
    await waitFor(async () => connected() && routerSeesController(), 'the router connected');
  });

  afterAll(async () => {
    await router?.close();
    await controller?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('is cut when disabled, and comes back once enabled and enrolled again', async () => {
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
    await reenrolled();
  });

  it('is cut when a snapshot restore disables it, which no apply announces', async () => {
    expect((await call('PATCH', `/routers/${routerId}`, { disabled: true })).status).toBe(200);
    const disabled = controller.model.snapshot();
    await reenrolled();
    const before = controller.runtime.status().sessionsCut;
    // What a follower does when the leader sends it a snapshot: the model is replaced at once.
    controller.model.restore(disabled);
    await waitFor(async () => !connected(), 'the session cut on the next tick');
    expect(controller.runtime.status().sessionsCut).toBe(before + 1);
    await reenrolled();
  });

  it('keeps its session when renamed: it is its certificate’s id, not a name', async () => {
    const before = controller.runtime.status().sessionsCut;
    expect((await call('PATCH', `/routers/${routerId}`, { name: 'edge-1-renamed' })).status).toBe(200);
    expect(connected()).toBe(true);
    expect(controller.runtime.status().sessionsCut).toBe(before);
    expect(controller.runtime.status().routers.map((r) => r.name)).toEqual(['edge-1-renamed']);
  });

  it('is cut when deleted', async () => {
    const before = controller.runtime.status().sessionsCut;
    expect((await call('DELETE', `/routers/${routerId}`)).status).toBe(204);
    expect(connected()).toBe(false);
    expect(controller.runtime.status().sessionsCut).toBe(before + 1);
    await waitFor(async () => !routerSeesController(), 'the router saw its session end');
  });
});
