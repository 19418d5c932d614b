/**
 * Fault hooks exist only where fault injection is on (tests and `meshdesk lab`): a production
 * controller has no `PUT /runtime/faults` and no `/debug` routes, not even for an admin, and does
 * not list them in its OpenAPI document; a production router's status endpoint has no `/faults/*`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startController, type Controller } from '../../core/controller.js';
import { RouterAgent } from '../../core/router/router-agent.js';
import { callController, loginToController } from '../support/controller-api.js';
import { fetchAsCertificate } from '../support/enrolled-routers.js';
import { testTls } from '../support/test-pki.js';

const PASSWORD = 'fault-hooks-admin-pw';

let controller: Controller | undefined;
let router: RouterAgent | undefined;
let dir: string | undefined;
afterEach(async () => {
  await controller?.stop();
  await router?.close();
  controller = undefined;
  router = undefined;
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function startWith(faultInjection: boolean): Promise<{ token: string }> {
  dir = await mkdtemp(join(tmpdir(), 'meshdesk-fault-hooks-'));
  controller = await startController({
    dataDir: dir,
    api: { host: '127.0.0.1', port: 0 },
    cluster: { host: '127.0.0.1', port: 0 },
    bootstrap: { adminPassword: PASSWORD },
    ...(faultInjection ? { faultInjection } : {}),
    logger: pino({ level: 'silent' }),
  });
  return { token: await loginToController(controller.url, 'admin', PASSWORD) };
}

const call = (method: string, path: string, token?: string, body?: unknown): Promise<Response> =>
  callController(controller!.url, method, path, { token, body });

async function operationIds(): Promise<string[]> {
  const doc = (await (await call('GET', '/openapi.json')).json()) as {
    paths: Record<string, Record<string, { operationId: string }>>;
  };
  return Object.values(doc.paths).flatMap((methods) => Object.values(methods).map((o) => o.operationId));
}

describe('a controller’s fault hooks', () => {
  it('are absent on a production node, for an admin too, and from its OpenAPI document', async () => {
    const { token } = await startWith(false);
    const slow = await call('PUT', '/runtime/faults', token, { routerDelayMs: 5_000 });
    expect(slow.status).toBe(404);
    expect((await call('GET', '/debug/faults', token)).status).toBe(404);
    expect(controller!.runtime.channel.delay).toBe(0);
    const ids = await operationIds();
    expect(ids).toContain('getRuntime');
    expect(ids).not.toContain('setRuntimeFaults');
    expect(ids).not.toContain('setPeerFaults');
  });

  it('are there with fault injection on (tests and the lab)', async () => {
    const { token } = await startWith(true);
    const slow = await call('PUT', '/runtime/faults', token, { routerDelayMs: 20 });
    expect(slow.status).toBe(200);
    expect(await slow.json()).toEqual({ routerDelayMs: 20 });
    expect(controller!.runtime.channel.delay).toBe(20);
    expect(await operationIds()).toContain('setRuntimeFaults');
  });
});

describe('a router’s fault hooks', () => {
  async function block(faults: boolean): Promise<Response> {
    const clusterId = 'fault-hooks-cluster';
    const credentials = {
      clusterId,
      routerId: 'r1',
      ...(await testTls(clusterId, 'r1', { kind: 'router' })),
    };
    router = await RouterAgent.start({
      controllers: [],
      credentials,
      listen: { host: '127.0.0.1', port: 0 },
      faults,
    });
    // Asked as the router itself (its own certificate may ask its status endpoint).
    return fetchAsCertificate(`https://${router.address}/faults/block?peer=r2`, credentials, {
      method: 'POST',
    });
  }

  it('are absent on a production router', async () => {
    expect((await block(false)).status).toBe(404);
    expect(router!.blocked()).toEqual([]);
  });

  it('are there with fault injection on', async () => {
    const answer = await block(true);
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ blocked: ['r2'] });
  });
});
