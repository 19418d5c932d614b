/**
 * The test-only fault route of the Jepsen suite (`/debug`, core/api/routes/debug.ts): present
 * only when `meshdesk start` runs under MESHDESK_FAULT_INJECTION=1, admins only, strict bodies,
 * a PUT replaces the whole table. Its effect on real processes is the Jepsen test's business;
 * the snapshot crash is not called here because it would kill this process.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseStart, runStart } from '../../core/cli/start.js';
import type { Controller } from '../../core/controller.js';

const PASSWORD = 'debug-route-password';

let root: string;
const nodes: Controller[] = [];

async function startNode(name: string, extraEnv: NodeJS.ProcessEnv): Promise<Controller> {
  const env = {
    MESHDESK_ADMIN_PASSWORD: PASSWORD,
    MESHDESK_LOG_LEVEL: 'error',
    ...extraEnv,
  };
  const argv = ['--data-dir', join(root, name), '--api', '127.0.0.1:0', '--cluster', '127.0.0.1:0'];
  const args = parseStart([...argv, '--bootstrap'], env);
  if (args === 'help') throw new Error('unexpected help');
  const controller = await runStart(args, env);
  nodes.push(controller);
  return controller;
}

async function call(
  node: Controller,
  method: string,
  path: string,
  body?: unknown,
  token?: string,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read JSON bodies loosely
): Promise<{ status: number; type: string; body: any }> {
  const res = await fetch(`${node.url}/api/v1${path}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return {
    status: res.status,
    type: res.headers.get('content-type') ?? '',
    body: text ? JSON.parse(text) : undefined,
  };
}

async function login(node: Controller): Promise<string> {
  const res = await call(node, 'POST', '/auth/login', { username: 'admin', password: PASSWORD });
  expect(res.status).toBe(200);
  return res.body.token as string;
}

let armed: Controller;
let plain: Controller;
let armedToken: string;
let plainToken: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'meshdesk-debug-'));
  armed = await startNode('armed', { MESHDESK_FAULT_INJECTION: '1' });
  plain = await startNode('plain', { MESHDESK_FAULT_INJECTION: 'true' });
  [armedToken, plainToken] = await Promise.all([login(armed), login(plain)]);
});

afterAll(async () => {
  for (const node of nodes) await node.stop();
  await rm(root, { recursive: true, force: true });
});

describe('debug fault route', () => {
  it('does not exist unless MESHDESK_FAULT_INJECTION is exactly 1', async () => {
    for (const [method, path, body] of [
      ['GET', '/debug/faults', undefined],
      ['PUT', '/debug/faults', {}],
      ['POST', '/debug/crash-in-snapshot', { at: 'saved' }],
    ] as const) {
      const res = await call(plain, method, path, body, plainToken);
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.type).toMatch(/^application\/problem\+json/);
    }
  });

  it('needs an admin', async () => {
    expect((await call(armed, 'PUT', '/debug/faults', {})).status).toBe(401);
    expect((await call(armed, 'POST', '/debug/crash-in-snapshot', { at: 'saved' })).status).toBe(401);
  });

  it('answers a bad body with 400 problem+json and changes nothing', async () => {
    await call(armed, 'PUT', '/debug/faults', { peers: { nkeep: { cut: true } } }, armedToken);
    for (const body of [
      { peers: { n1: { cut: 'yes' } } },
      { peers: { n1: { drop: 2 } } },
      { peers: { n1: { delayMs: -1 } } },
      { peers: { n1: { cut: true, sever: true } } },
      { peers: { '': { cut: true } } },
      { peers: [] },
      { cut: true },
    ]) {
      const res = await call(armed, 'PUT', '/debug/faults', body, armedToken);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.type).toMatch(/^application\/problem\+json/);
      expect(res.body.status).toBe(400);
    }
    const crash = await call(armed, 'POST', '/debug/crash-in-snapshot', { at: 'later' }, armedToken);
    expect(crash.status).toBe(400);
    expect(crash.type).toMatch(/^application\/problem\+json/);
    expect((await call(armed, 'GET', '/debug/faults', undefined, armedToken)).body).toEqual({
      peers: { nkeep: { cut: true } },
    });
  });

  it('replaces the whole table, and {} heals', async () => {
    const first = await call(
      armed,
      'PUT',
      '/debug/faults',
      { peers: { na: { cut: true }, nb: { drop: 0.5, delayMs: 20 } } },
      armedToken,
    );
    expect(first.status).toBe(200);
    expect(first.body.peers).toEqual({ na: { cut: true }, nb: { drop: 0.5, delayMs: 20 } });
    const second = await call(armed, 'PUT', '/debug/faults', { peers: { nb: { cut: true } } }, armedToken);
    expect(second.body.peers).toEqual({ nb: { cut: true } });
    const healed = await call(armed, 'PUT', '/debug/faults', {}, armedToken);
    expect(healed.status).toBe(200);
    expect(healed.body.peers).toEqual({});
    expect((await call(armed, 'GET', '/debug/faults', undefined, armedToken)).body).toEqual({ peers: {} });
  });
});
