/**
 * The router channel against bad input: one controller in-process, a raw socket.io client in
 * place of a router. Every bad message is dropped and counted; the tables stay as they were and
 * the channel keeps serving the same connection.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startController, type Controller } from '../../core/controller.js';
import { encodeCommand } from '../../core/model/commands.js';
import { controllerIdentity } from '../../core/router/controller-session.js';
import { certificateCredentials, type RouterCredentials } from '../../core/router/credentials.js';
import { EVENTS, PROTOCOL_VERSION, ROUTER_NAMESPACE } from '../../core/runtime/protocol.js';
import { createFrameParser } from '../../core/transport/frame-parser.js';
import { loginToController } from '../support/controller-api.js';
import { enrollThrough } from '../support/enrolled-routers.js';
import { collectingLogger, type LogLine } from '../support/log-lines.js';
import { waitFor } from '../support/wait.js';

describe('router channel: bad input is dropped and counted', () => {
  let dir: string;
  let controller: Controller;
  const sockets: Socket[] = [];
  /** The controller's warnings, parsed: refusals name their reason only in the log. */
  const warnings: LogLine[] = [];
  /** Router ra's certificate, enrolled through the API. */
  let ra: RouterCredentials;

  /** A raw router connection claiming `router`; resolves once accepted (or with the refusal). */
  function connect(
    router: string,
    credentials: RouterCredentials | null = ra,
  ): Promise<{ socket: Socket; refused?: string }> {
    const socket = io(`https://127.0.0.1:${controller.node.clusterPort}${ROUTER_NAMESPACE}`, {
      transports: ['websocket'],
      forceNew: true,
      reconnection: false,
      // A router checks the controller's certificate against the cluster CA, as this one does.
      ca: readFileSync(join(dir, 'tls', 'ca.pem'), 'utf8'),
      ...(credentials ? { key: credentials.key, cert: credentials.cert } : {}),
      ...{ checkServerIdentity: controllerIdentity },
      parser: createFrameParser(() => undefined),
      auth: { v: PROTOCOL_VERSION, router },
    });
    sockets.push(socket);
    return new Promise((resolve) => {
      socket.on(EVENTS.accepted, () => resolve({ socket }));
      socket.on('connect_error', (err: Error & { data?: { code?: string } }) =>
        resolve({ socket, refused: err.data?.code ?? err.message }),
      );
      socket.on('disconnect', (reason) => resolve({ socket, refused: reason }));
    });
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'meshdesk-runtime-bad-'));
    controller = await startController({
      dataDir: dir,
      api: { host: '127.0.0.1', port: 0 },
      cluster: { host: '127.0.0.1', port: 0 },
      bootstrap: { adminPassword: 'bad-input-admin-pw' },
      logger: collectingLogger(warnings, 'warn'),
    });
    const at = new Date().toISOString();
    const commands = ['ra', 'rb'].map((name) => ({
      op: 'create' as const,
      collection: 'routers' as const,
      id: name,
      at,
      data: { name },
    }));
    await controller.node.replica.propose(encodeCommand({ op: 'batch', commands }));
    const token = await loginToController(controller.url, 'admin', 'bad-input-admin-pw');
    ra = certificateCredentials(await enrollThrough(controller.url, token, 'ra'));
  });

  afterAll(async () => {
    for (const s of sockets) s.disconnect();
    await controller?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses a connection without a certificate, and a certificate claiming another router', async () => {
    const before = controller.runtime.status().refusedHandshakes;
    expect((await connect('ra', null)).refused).toBe('NO_CERTIFICATE');
    expect((await connect('rb')).refused).toBe('WRONG_ROUTER');
    // Both are counted; the log has the first, the second is summed up when its interval ends.
    expect(controller.runtime.status().refusedHandshakes - before).toBe(2);
    expect(warnings.filter((w) => w.message === 'refused router handshake')).toEqual([
      expect.objectContaining({
        details: expect.objectContaining({ reason: 'NO_CERTIFICATE', router: 'ra' }),
      }),
    ]);
    expect(controller.runtime.status().routers).toEqual([]);
  });

  it('drops malformed and lying messages, keeps the tables, and still serves the router', async () => {
    const { socket, refused } = await connect('ra');
    expect(refused).toBeUndefined();
    const runtime = controller.runtime;
    socket.emit(EVENTS.links, { links: 'not a list' });
    socket.emit(EVENTS.link, { op: 'up', link: { id: 'x', dialer: 'ra', acceptor: 'ghost', latencyMs: 1 } });
    socket.emit(EVENTS.link, { op: 'up', link: { id: 'y', dialer: 'rb', acceptor: 'rb', latencyMs: 1 } });
    socket.emit(EVENTS.link, { op: 'up', link: { id: 'z', dialer: 'rb', acceptor: 'ghost2', latencyMs: 1 } });
    socket.emit(EVENTS.link, { op: 'up', link: { id: 'w', dialer: 'rb', acceptor: 'rb2', latencyMs: -5 } });
    socket.emit(EVENTS.fault, { circuitId: 'no-such-circuit', reason: 'link down' });
    socket.emit('no.such.event', { anything: 1 });
    socket.emit(EVENTS.link, { op: 'up', link: { id: 'v', dialer: 'rb', acceptor: 'ra', latencyMs: -1 } });
    // A claim about a link between two other routers: ra is not one of its ends.
    await controller.node.replica.propose(
      encodeCommand({
        op: 'create',
        collection: 'routers',
        id: 'rc',
        at: new Date().toISOString(),
        data: { name: 'rc' },
      }),
    );
    socket.emit(EVENTS.link, { op: 'up', link: { id: 'u', dialer: 'rb', acceptor: 'rc', latencyMs: 1 } });
    const answer = await socket
      .timeout(2_000)
      .emitWithAck(EVENTS.confirmRoutes, { circuitIds: ['c-unknown'] });
    expect(answer).toEqual({ unknown: ['c-unknown'] });
    await waitFor(() => runtime.status().droppedTotal >= 8, 'eight drops', 5_000);
    expect(runtime.status().dropped).toMatchObject({
      MALFORMED: 3,
      UNKNOWN_LINK_END: 2,
      UNKNOWN_EVENT: 1,
      UNKNOWN_CIRCUIT: 1,
      NOT_AN_END: 1,
    });
    expect(runtime.listLinks()).toEqual([]);
    // The same connection still works: a true report is taken.
    socket.emit(EVENTS.link, { op: 'up', link: { id: 'good', dialer: 'ra', acceptor: 'rb', latencyMs: 2 } });
    await waitFor(() => runtime.listLinks().length === 1, 'the valid link', 5_000);
    expect(runtime.listLinks()[0]).toMatchObject({ id: 'good', dialerName: 'ra', acceptorName: 'rb' });
  });
});
