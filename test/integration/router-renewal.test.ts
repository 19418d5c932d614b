/**
 * A router renews its certificate before it expires, with no downtime. One controller in-process,
 * two enrolled routers linked over mutual TLS; the test drives router A's clock. Until two thirds
 * of its certificate's life nothing happens; then A gets a new certificate (a new key) over its
 * session, keeps it (onRenewed, as `meshdesk router` rewrites its identity file), and moves its
 * controller session onto it without the controller seeing it go; the link to B stays up, and
 * both certificates open connections until the old one is revoked with the router.
 */
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startController, type Controller } from '../../core/controller.js';
import { routerCertificates } from '../../core/model/router-certificates.js';
import { renewalTime } from '../../core/pki/renewal-schedule.js';
import { certificateCredentials, type RouterCredentials } from '../../core/router/credentials.js';
import type { RouterIdentity } from '../../core/router/identity.js';
import type { RouterAgent } from '../../core/router/router-agent.js';
import { loginToController } from '../support/controller-api.js';
import { collectingLogger, type LogLine } from '../support/log-lines.js';
import {
  createEnrolledRouter,
  fetchAsCertificate,
  startEnrolledRouter,
} from '../support/enrolled-routers.js';
import { waitFor } from '../support/wait.js';

const PASSWORD = 'router-renewal-admin-pw';
const serialOf = (pem: string): string => new X509Certificate(pem).serialNumber.toUpperCase();

describe('router certificate renewal', () => {
  let dir: string;
  let controller: Controller;
  let a: RouterAgent;
  let b: RouterAgent;
  let identityA: RouterIdentity;
  let clock = new Date();
  const kept: RouterCredentials[] = [];
  /** The controller's log: a router that goes away says so there. */
  const lines: LogLine[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'meshdesk-router-renewal-'));
    controller = await startController({
      dataDir: dir,
      api: { host: '127.0.0.1', port: 0 },
      cluster: { host: '127.0.0.1', port: 0 },
      bootstrap: { adminPassword: PASSWORD },
      logger: collectingLogger(lines, 'info'),
    });
    const token = await loginToController(controller.url, 'admin', PASSWORD);
    identityA = await createEnrolledRouter(controller.url, token, 'edge-a');
    const identityB = await createEnrolledRouter(controller.url, token, 'edge-b');
    const options = { listen: { host: '127.0.0.1', port: 0 }, heartbeatMs: 100, linkPingMs: 200 };
    a = await startEnrolledRouter(identityA, {
      ...options,
      now: () => clock,
      onRenewed: async (renewed) => void kept.push(renewed),
    });
    b = await startEnrolledRouter(identityB, options);
    await waitFor(
      async () => controller.runtime.listLinks().length === 1 && a.links.status().length === 1,
      'the routers connected and linked',
    );
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await controller?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('waits until two thirds of the certificate’s life, then renews it with no downtime', async () => {
    const routerId = identityA.router.id;
    const oldSerial = serialOf(identityA.certificate);
    expect(await a.renewal.check()).toBe(false);
    expect(kept).toEqual([]);

    const [link] = controller.runtime.listLinks();
    const cut = controller.runtime.status().sessionsCut;
    clock = new Date(renewalTime(identityA.certificate).getTime() + 1_000);
    expect(await a.renewal.check()).toBe(true);

    // A new key and certificate for the same router, kept before use.
    expect(kept).toHaveLength(1);
    const renewed = kept[0]!;
    expect(renewed.key).not.toBe(identityA.key);
    expect(renewed.routerId).toBe(routerId);
    const newSerial = serialOf(renewed.cert);
    expect(newSerial).not.toBe(oldSerial);
    // The model holds both: connections made on the old one carry on.
    expect(routerCertificates(controller.model.model, routerId).map((c) => c.serial)).toEqual([
      newSerial,
      oldSerial,
    ]);

    // The controller session moved onto the new certificate: replaced, never cut or gone.
    await waitFor(
      async () => controller.runtime.channel.session(routerId)?.serial === newSerial,
      'the session on the new certificate',
    );
    expect(controller.runtime.status().sessionsCut).toBe(cut);
    expect(lines.filter((l) => l.message === 'router disconnected')).toEqual([]);
    // The link stayed up all along: the same one, at both ends.
    expect(controller.runtime.listLinks().map((l) => l.id)).toEqual([link!.id]);
    expect(a.links.status().map((l) => l.id)).toEqual([link!.id]);
    expect(b.links.status().map((l) => l.id)).toEqual([link!.id]);

    // A serves the new certificate to new connections, and accepts both of its own.
    const served = await new Promise<string>((resolve, reject) => {
      const socket = connect({
        host: '127.0.0.1',
        port: Number(a.address!.split(':')[1]),
        ca: renewed.ca,
        key: renewed.key,
        cert: renewed.cert,
        checkServerIdentity: () => undefined,
      });
      socket.once('secureConnect', () => {
        resolve(socket.getPeerCertificate().serialNumber.toUpperCase());
        socket.destroy();
      });
      socket.once('error', reject);
    });
    expect(served).toBe(newSerial);
    for (const own of [renewed, certificateCredentials(identityA)])
      expect((await fetchAsCertificate(`https://${a.address}/status`, own)).status).toBe(200);
  });
});
