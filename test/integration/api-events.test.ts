/** Events (socket.io and the backlog) and metrics of one real node (its OpenAPI document: openapi.test.ts). */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiNode, type ApiNode } from '../support/api-node.js';
import { waitFor } from '../support/wait.js';

let api: ApiNode;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'meshdesk-api-events-'));
  api = await startApiNode(dir);
});
afterAll(async () => {
  await api?.stop();
  await rm(dir, { recursive: true, force: true });
});

interface Event {
  kind: string;
  index: number;
  op?: string;
  collection?: string;
  id?: string;
  type?: string;
}

function connect(auth: Record<string, unknown>): Socket {
  return io(`${api.url}/events`, { auth, transports: ['websocket'], reconnection: false });
}

describe('events', () => {
  it('streams entity events with their Raft index, and replays the backlog after `since`', async () => {
    const socket = connect({ token: api.token });
    const received: Event[] = [];
    socket.on('event', (e: Event) => received.push(e));
    await new Promise<void>((resolve, reject) => {
      socket.on('connect', resolve);
      socket.on('connect_error', reject);
    });
    try {
      const created = await api.call('POST', '/identities', { body: { name: 'evented' } });
      const index = Number(created.headers.get('x-raft-index'));
      await waitFor(() => received.some((e) => e.id === created.body.id), 'the create event');
      expect(received.find((e) => e.id === created.body.id)).toMatchObject({
        kind: 'entity',
        op: 'create',
        collection: 'identities',
        index,
        revision: 1,
      });

      const backlog = await api.call('GET', `/events?since=${index - 1}`);
      expect(backlog.status).toBe(200);
      expect(backlog.body.data.map((e: Event) => e.id)).toContain(created.body.id);
      expect(backlog.body.meta.truncated).toBe(false);
      const after = await api.call('GET', `/events?since=${index}`);
      expect(after.body.data.map((e: Event) => e.id)).not.toContain(created.body.id);

      // A new connection with `since` gets the backlog first.
      const late = connect({ token: api.token, since: index - 1 });
      const replayed: Event[] = [];
      late.on('event', (e: Event) => replayed.push(e));
      await waitFor(() => replayed.some((e) => e.id === created.body.id), 'the replayed event');
      late.close();
    } finally {
      socket.close();
    }
  });

  it('records cluster events (the node became leader)', async () => {
    const all = await api.call('GET', '/events?since=0');
    const types = all.body.data.filter((e: Event) => e.kind === 'cluster').map((e: Event) => e.type);
    expect(types).toEqual(expect.arrayContaining(['role', 'leader']));
  });

  it('closes the sockets of an admin who is deleted, and refuses that admin’s token afterwards', async () => {
    const created = await api.call('POST', '/admins', {
      body: { username: 'leaving', password: 'leaving-pass-1' },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const token = await api.login('leaving', 'leaving-pass-1');
    const leaving = connect({ token });
    const staying = connect({ token: api.token });
    const closed: string[] = [];
    leaving.on('disconnect', (reason) => closed.push(reason));
    const seenByStaying: Event[] = [];
    staying.on('event', (e: Event) => seenByStaying.push(e));
    await waitFor(() => leaving.connected && staying.connected, 'both sockets connected');
    try {
      await api.call('DELETE', `/admins/${created.body.id}`);
      await waitFor(() => closed.length > 0, 'the deleted admin’s socket to close', 1_000);
      expect(closed).toEqual(['io server disconnect']);
      // The other admin's socket stays, and hears of the delete.
      await waitFor(
        () => seenByStaying.some((e) => e.id === created.body.id && e.op === 'delete'),
        'the delete',
      );
      expect(staying.connected).toBe(true);

      const again = connect({ token });
      const error = await new Promise<Error & { data?: { status?: number; code?: string } }>((resolve) =>
        again.on('connect_error', resolve),
      );
      expect([error.data?.status, error.data?.code]).toEqual([401, 'INVALID_TOKEN']);
      again.close();
    } finally {
      leaving.close();
      staying.close();
    }
  });

  it('refuses a socket without a valid token', async () => {
    const socket = connect({ token: 'nope' });
    const error = await new Promise<Error & { data?: { status?: number } }>((resolve) =>
      socket.on('connect_error', resolve),
    );
    expect(error.data?.status).toBe(401);
    // One attempt per connection: the refused one is closed.
    await waitFor(() => socket.io.engine?.readyState !== 'open', 'the refused connection to close');
    socket.close();
  });

  it('closes a socket that sends anything: the stream flows one way', async () => {
    const token = await api.login();
    for (const send of [
      (s: Socket) => s.emit('event', { anything: 1 }),
      (s: Socket) => s.emit('x', 'y'.repeat(64 * 1024)),
    ]) {
      const socket = connect({ token });
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      send(socket);
      await waitFor(() => !socket.connected, 'the socket to be closed');
      socket.close();
    }
  });
});

describe('metrics', () => {
  it('exposes Raft, peer, proposal and HTTP figures as Prometheus text', async () => {
    await api.call('GET', '/identities');
    const res = await api.call('GET', '/metrics');
    expect(res.status).toBe(200);
    expect(res.contentType).toContain('text/plain');
    const text = res.body as string;
    for (const name of [
      'meshdesk_raft_term',
      'meshdesk_raft_commit_index',
      'meshdesk_raft_applied_index',
      'meshdesk_raft_role{',
      'meshdesk_proposals_total{',
      'meshdesk_http_requests_total{',
      'meshdesk_http_request_duration_seconds_bucket{',
    ]) {
      expect(text, name).toContain(name);
    }
    expect(text).toMatch(/meshdesk_raft_role\{[^}]*role="leader"[^}]*\} 1/);
    expect(text).toMatch(/meshdesk_http_requests_total\{[^}]*route="\/api\/v1\/identities"[^}]*status="200"/);
  });

  it('times each persist (fsync) and each apply of committed commands', async () => {
    expect((await api.call('POST', '/identities', { body: { name: 'timed-1' } })).status).toBe(201);
    const text = (await api.call('GET', '/metrics')).body as string;
    for (const name of ['meshdesk_raft_persist_seconds_count', 'meshdesk_model_apply_seconds_count']) {
      const count = Number(new RegExp(`^${name}\\{[^}]*\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
      expect(count, name).toBeGreaterThan(0);
    }
  });

  it('needs a token', async () => {
    expect((await api.call('GET', '/metrics', { token: null })).status).toBe(401);
  });
});
