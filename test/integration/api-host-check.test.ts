/**
 * DNS rebinding: a page whose own name resolves to 127.0.0.1 talks to the local API as a
 * same-origin page, but its requests name its host. Every route and the UI are refused with 421
 * (socket.io with its own 403) for a Host that is not loopback or one of the node's names, and a socket.io
 * handshake from another origin is refused.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiNode, type ApiNode } from '../support/api-node.js';

let api: ApiNode;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'meshdesk-host-check-'));
  api = await startApiNode(dir);
});

afterAll(async () => {
  await api?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** A GET naming `host` in its Host header, whatever address it is sent to. */
function getAs(host: string, path: string): Promise<{ status: number; type: string; body: string }> {
  const { port } = new URL(api.url);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, headers: { host, authorization: `Bearer ${api.token}` } },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'] ?? '', body }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('the Host a request names', () => {
  it('is refused with 421 problem+json when it is not this node, on every kind of route', async () => {
    for (const path of [
      '/api/v1/health',
      '/api/v1/identities',
      '/api/v1/openapi.json',
      '/',
      '/socket.io/?EIO=4&transport=polling',
    ]) {
      const answer = await getAs('evil.example', path);
      // socket.io answers its own refusals, always 403.
      expect(answer.status, path).toBe(path.startsWith('/socket.io') ? 403 : 421);
      if (!path.startsWith('/socket.io')) {
        expect(answer.type, path).toMatch(/^application\/problem\+json/);
        expect(JSON.parse(answer.body)).toMatchObject({ status: 421, code: 'MISDIRECTED' });
      }
    }
    expect((await getAs('evil.example:8440', '/api/v1/health')).status).toBe(421);
  });

  it('is answered for loopback names and addresses', async () => {
    const { port } = new URL(api.url);
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, `LOCALHOST:${port}`]) {
      expect((await getAs(host, '/api/v1/health')).status, host).toBe(200);
    }
  });

  it('refuses a socket.io handshake from a page of another origin', async () => {
    const socket = io(`${api.url}/events`, {
      auth: { token: api.token },
      transports: ['websocket'],
      reconnection: false,
      extraHeaders: { origin: 'http://evil.example' },
    });
    const refused = await new Promise<boolean>((resolve) => {
      socket.on('connect', () => resolve(false));
      socket.on('connect_error', () => resolve(true));
    });
    socket.close();
    expect(refused).toBe(true);
    const same = io(`${api.url}/events`, {
      auth: { token: api.token },
      transports: ['websocket'],
      reconnection: false,
      extraHeaders: { origin: api.url },
    });
    const connected = await new Promise<boolean>((resolve) => {
      same.on('connect', () => resolve(true));
      same.on('connect_error', () => resolve(false));
    });
    same.close();
    expect(connected).toBe(true);
  });
});
