/**
 * Routers on their own certificates: one controller in-process, real router agents enrolled
 * through the API (as `meshdesk router enroll` does) and connected over mutual
 * TLS to the controller and to each other. The router's id comes from its certificate: a
 * certificate of another cluster, of a controller, of a router the model lacks, or a hello
 * claiming another router's id is refused with its reason and counted; links check both ends'
 * certificates; the status endpoint answers only the router's own certificate or a controller's.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startController, type Controller } from '../../core/controller.js';
import { readClusterCa } from '../../core/model/pki.js';
import {
  chainPem,
  createClusterCa,
  createKeyAndCsr,
  issueCertificate,
  type CertKind,
} from '../../core/pki/ca.js';
import { controllerIdentity } from '../../core/router/controller-session.js';
import { certificateCredentials, type RouterCredentials } from '../../core/router/credentials.js';
import type { RouterIdentity } from '../../core/router/identity.js';
import { LINK_NAMESPACE, makeLinkHello } from '../../core/router/link-auth.js';
import type { RouterAgent } from '../../core/router/router-agent.js';
import { EVENTS, PROTOCOL_VERSION, ROUTER_NAMESPACE } from '../../core/runtime/protocol.js';
import { createFrameParser } from '../../core/transport/frame-parser.js';
import { callController, loginToController } from '../support/controller-api.js';
import {
  createEnrolledRouter,
  enrollThrough,
  fetchAsCertificate,
  startEnrolledRouter,
} from '../support/enrolled-routers.js';
import { waitFor } from '../support/wait.js';

const PASSWORD = 'router-certificates-admin-pw';

describe('routers on certificates', () => {
  let dir: string;
  let controller: Controller;
  let token: string;
  const agents: RouterAgent[] = [];
  const sockets: Socket[] = [];
  const identities = new Map<string, RouterIdentity>();

  const call = (method: string, path: string, body?: unknown): Promise<Response> =>
    callController(controller.url, method, path, { token, body });

  async function enrolled(name: string): Promise<RouterIdentity> {
    const identity = await createEnrolledRouter(controller.url, token, name);
    identities.set(name, identity);
    return identity;
  }

  async function start(identity: RouterIdentity): Promise<RouterAgent> {
    const agent = await startEnrolledRouter(identity, {
      listen: { host: '127.0.0.1', port: 0 },
      heartbeatMs: 100,
      linkPingMs: 200,
    });
    agents.push(agent);
    return agent;
  }

  /** A certificate of this cluster's CA (as a thief or a buggy client might hold one). */
  async function certificate(kind: CertKind, id: string): Promise<RouterCredentials> {
    const ca = readClusterCa(controller.model.model)!;
    const { keyPem, csrPem } = await createKeyAndCsr(id);
    const leaf = await issueCertificate(
      { certPem: ca.intermediateCertPem, keyPem: ca.intermediateKeyPem },
      csrPem,
      { clusterId: controller.node.clusterId, kind, id },
    );
    return {
      clusterId: controller.node.clusterId,
      routerId: id,
      key: keyPem,
      cert: chainPem(leaf, ca.intermediateCertPem),
      ca: ca.rootCertPem,
    };
  }

  /** A router certificate of another CA with this cluster's id in it (a forger's). */
  async function foreignCertificate(id: string): Promise<RouterCredentials> {
    const foreignCa = await createClusterCa(controller.node.clusterId);
    const { keyPem, csrPem } = await createKeyAndCsr(id);
    const foreign = await issueCertificate(foreignCa.intermediate, csrPem, {
      clusterId: controller.node.clusterId,
      kind: 'router',
      id,
    });
    return {
      ...(await certificate('router', id)),
      key: keyPem,
      cert: chainPem(foreign, foreignCa.intermediate.certPem),
    };
  }

  /** A raw connection to the controller's `/routers` (with a client certificate, or none): accepted, or why not. */
  function tryController(credentials: RouterCredentials | undefined, claimed: string): Promise<string> {
    const socket = io(`https://127.0.0.1:${controller.node.clusterPort}${ROUTER_NAMESPACE}`, {
      transports: ['websocket'],
      forceNew: true,
      reconnection: false,
      ca: readClusterCa(controller.model.model)!.rootCertPem,
      ...(credentials ? { key: credentials.key, cert: credentials.cert } : {}),
      ...{ checkServerIdentity: controllerIdentity },
      parser: createFrameParser(() => undefined),
      auth: { v: PROTOCOL_VERSION, router: claimed },
    });
    sockets.push(socket);
    return new Promise((resolve) => {
      socket.on(EVENTS.accepted, () => resolve('accepted'));
      socket.on('connect_error', (err: Error & { data?: { code?: string } }) =>
        resolve(err.data?.code ?? err.message),
      );
    });
  }

  /** A raw link dial to `agent` with a client certificate: connected, or why not. */
  function tryLink(agent: RouterAgent, credentials: RouterCredentials, from: string): Promise<string> {
    const socket = io(`https://${agent.address}${LINK_NAMESPACE}`, {
      transports: ['websocket'],
      forceNew: true,
      reconnection: false,
      ca: credentials.ca,
      key: credentials.key,
      cert: credentials.cert,
      ...{ checkServerIdentity: () => undefined },
      parser: createFrameParser(() => undefined),
      auth: makeLinkHello(`${from}~x~1`, from, agent.name),
    });
    sockets.push(socket);
    return new Promise((resolve) => {
      socket.on('connect', () => resolve('connected'));
      socket.on('connect_error', (err: Error) => resolve(err.message));
    });
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'meshdesk-router-certs-'));
    controller = await startController({
      dataDir: dir,
      api: { host: '127.0.0.1', port: 0 },
      cluster: { host: '127.0.0.1', port: 0 },
      bootstrap: { adminPassword: PASSWORD },
    });
    token = await loginToController(controller.url, 'admin', PASSWORD);
  });

  afterAll(async () => {
    for (const socket of sockets) socket.disconnect();
    for (const agent of agents) await agent.close();
    await controller?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('connects enrolled routers by their certificates and links them over mutual TLS', async () => {
    const a = await start(await enrolled('edge-a'));
    const b = await start(await enrolled('edge-b'));
    const [idA, idB] = [identities.get('edge-a')!.router.id, identities.get('edge-b')!.router.id];
    await waitFor(
      async () => controller.runtime.channel.connected(idA) && controller.runtime.channel.connected(idB),
      'both routers connected',
    );
    expect(controller.runtime.channel.session(idA)).toMatchObject({ serial: expect.any(String) });
    await waitFor(async () => controller.runtime.listLinks().length === 1, 'the link between them');
    const [link] = controller.runtime.listLinks();
    // Known by id on the wire, shown by name.
    expect([link!.dialer, link!.acceptor].sort()).toEqual([idA, idB].sort());
    expect([link!.dialerName, link!.acceptorName].sort()).toEqual(['edge-a', 'edge-b']);
    // Each end registers the link in its own time (the dialer once it measured it).
    await waitFor(
      async () => a.links.status().length === 1 && b.links.status().length === 1,
      'both ends hold the link',
    );
    expect(a.links.status().map((l) => l.peer)).toEqual([idB]);
    expect(b.links.status().map((l) => l.peer)).toEqual([idA]);
    expect(a.controllers.status()[0]).toMatchObject({ connected: true });
  });

  it('refuses no certificate, one of another cluster, of a controller, of an unknown router, or another router’s id', async () => {
    const idA = identities.get('edge-a')!.router.id;
    const before = controller.runtime.status().refusedHandshakes;
    // No shared secret to fall back on: without a certificate, nothing.
    expect(await tryController(undefined, idA)).toBe('NO_CERTIFICATE');
    const stolenName = await foreignCertificate(idA);
    expect(await tryController(stolenName, idA)).toBe('UNTRUSTED_CERTIFICATE');
    expect(await tryController(await certificate('controller', 'n-x'), idA)).toBe('NOT_A_ROUTER');
    expect(await tryController(await certificate('router', 'no-such-router'), 'no-such-router')).toBe(
      'UNKNOWN_ROUTER',
    );
    const idB = identities.get('edge-b')!.router.id;
    expect(await tryController(certificateCredentials(identities.get('edge-b')!), idA)).toBe('WRONG_ROUTER');
    // And the real one is accepted (a second session replaces the agent's: it reconnects).
    expect(await tryController(certificateCredentials(identities.get('edge-b')!), idB)).toBe('accepted');
    expect(controller.runtime.status().refusedHandshakes).toBe(before + 5);
  });

  it('refuses a link dial without a router certificate of the cluster, or claiming another router', async () => {
    const a = agents[0]!;
    const idB = identities.get('edge-b')!.router.id;
    const before = a.links.refused;
    expect(await tryLink(a, await certificate('controller', 'n-x'), idB)).toBe('link refused');
    expect(await tryLink(a, await certificate('router', 'r-other'), idB)).toBe('link refused');
    const outsider = await foreignCertificate(idB);
    expect(await tryLink(a, outsider, idB)).not.toBe('connected');
    await waitFor(async () => a.links.refused === before + 3, 'three refusals counted');
  });

  it('serves its status only to its own certificate or a controller’s', async () => {
    const a = agents[0]!;
    const own = certificateCredentials(identities.get('edge-a')!);
    const other = certificateCredentials(identities.get('edge-b')!);
    const status = async (credentials: RouterCredentials): Promise<number> =>
      (await fetchAsCertificate(`https://${a.address}/status`, credentials)).status;
    expect(await status(own)).toBe(200);
    expect(await status(await certificate('controller', 'n-x'))).toBe(200);
    expect(await status(other)).toBe(401);
    await expect(fetch(`http://${a.address}/status`)).rejects.toThrow();
    // HTTPS without a client certificate: the TLS handshake itself fails.
    await expect(fetch(`https://${a.address}/status`)).rejects.toThrow();
  });

  it('keeps a renamed router’s session (it is its id); disabling revokes its certificate until it enrolls again', async () => {
    const idA = identities.get('edge-a')!.router.id;
    const cut = controller.runtime.status().sessionsCut;
    expect((await call('PATCH', `/routers/${idA}`, { name: 'edge-a-renamed' })).status).toBe(200);
    expect(controller.runtime.channel.connected(idA)).toBe(true);
    expect(controller.runtime.status().sessionsCut).toBe(cut);
    expect((await call('PATCH', `/routers/${idA}`, { disabled: true })).status).toBe(200);
    expect(controller.runtime.channel.connected(idA)).toBe(false);
    expect(controller.runtime.status().sessionsCut).toBe(cut + 1);
    // The routers hear of it too: edge-b closes its link to edge-a, and the old certificate opens
    // no new one.
    const b = agents[1]!;
    await waitFor(async () => b.links.status().length === 0, 'edge-b to drop its link to edge-a');
    expect(await tryLink(b, certificateCredentials(identities.get('edge-a')!), idA)).toBe('link refused');
    expect((await call('PATCH', `/routers/${idA}`, { disabled: false })).status).toBe(200);
    // Enabled again, its old certificate stays revoked.
    expect(await tryController(certificateCredentials(identities.get('edge-a')!), idA)).toBe(
      'REVOKED_CERTIFICATE',
    );
    expect(controller.runtime.channel.connected(idA)).toBe(false);
    await agents[0]!.close();
    const again = await enrollThrough(controller.url, token, idA);
    await start(again);
    await waitFor(
      async () => controller.runtime.channel.connected(idA),
      'the router back on its new certificate',
    );
    await waitFor(async () => b.links.status().length === 1, 'the link back');
  });

  it('cuts a router that enrolls again, on the apply, and refuses its old certificate', async () => {
    const idB = identities.get('edge-b')!.router.id;
    await waitFor(async () => controller.runtime.channel.connected(idB), 'edge-b connected');
    const cut = controller.runtime.status().sessionsCut;
    const renewed = await enrollThrough(controller.url, token, idB);
    // The enrollment's apply cut the session on the old certificate: nothing to wait for.
    expect(controller.runtime.channel.connected(idB)).toBe(false);
    expect(controller.runtime.status().sessionsCut).toBe(cut + 1);
    expect(await tryController(certificateCredentials(identities.get('edge-b')!), idB)).toBe(
      'REVOKED_CERTIFICATE',
    );
    expect(await tryController(certificateCredentials(renewed), idB)).toBe('accepted');
  });

  it('cuts a deleted router, and no certificate of it opens the channel again', async () => {
    const idB = identities.get('edge-b')!.router.id;
    await waitFor(async () => controller.runtime.channel.connected(idB), 'edge-b connected');
    expect((await call('DELETE', `/routers/${idB}`)).status).toBe(204);
    expect(controller.runtime.channel.connected(idB)).toBe(false);
    expect(await tryController(certificateCredentials(identities.get('edge-b')!), idB)).toBe(
      'UNKNOWN_ROUTER',
    );
  });
});
