/**
 * Router enrollment through the API of a real node: an admin mints a one-time token for one
 * router, and the router spends it for a certificate naming it
 * (`spiffe://<cluster>/router/<id>`), chained to the cluster CA, together with the controllers
 * to connect to. The token works once, for its router only, while the router is enabled.
 */
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJoinToken, signedBy } from '../../core/cluster/join-token.js';
import { readClusterCa } from '../../core/model/pki.js';
import {
  certificatesOf,
  createKeyAndCsr,
  fingerprint,
  serialOf,
  spiffeId,
  spiffeIdsOf,
  verifyChain,
} from '../../core/pki/ca.js';
import { startApiNode, type ApiNode } from '../support/api-node.js';

let api: ApiNode;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'meshdesk-router-enrollment-'));
  api = await startApiNode(dir);
});

afterAll(async () => {
  await api?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function createRouter(name: string): Promise<string> {
  const res = await api.call('POST', '/routers', { body: { name } });
  expect(res.status).toBe(201);
  return res.body.id as string;
}

async function mint(routerId: string, body: Record<string, unknown> = {}) {
  return api.call('POST', `/routers/${routerId}/enrollment`, { body });
}

async function enroll(token: string, csr?: string) {
  const request = csr ?? (await createKeyAndCsr('whoever')).csrPem;
  return api.call('POST', '/routers/enroll', { token: null, body: { token, csr: request } });
}

describe('router enrollment', () => {
  it('mints a token once, signed by the cluster, naming the router', async () => {
    const routerId = await createRouter('edge-a');
    const res = await mint(routerId, { expiresInMinutes: 15 });
    expect(res.status).toBe(201);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const { token, invitation } = res.body as { token: string; invitation: Record<string, unknown> };
    expect(invitation).toMatchObject({ kind: 'router', subject: routerId, state: 'pending' });
    const parsed = parseJoinToken(token);
    const ca = readClusterCa(api.model.model)!;
    expect(signedBy(parsed, ca.intermediateCertPem)).toBe(true);
    expect(parsed.payload).toMatchObject({
      kind: 'router',
      subject: routerId,
      clusterId: api.node.clusterId,
      member: api.url,
      caFingerprint: fingerprint(ca.rootCertPem),
    });
    const stored = JSON.stringify(api.model.model.rows('SELECT * FROM invitations'));
    expect(stored).not.toContain(parsed.payload.secret);
  });

  it('spends the token once for a certificate naming the router, whatever the CSR asks', async () => {
    const routerId = await createRouter('edge-b');
    const { token } = (await mint(routerId)).body as { token: string };
    const { csrPem } = await createKeyAndCsr('controller-pretender');
    const res = await enroll(token, csrPem);
    expect(res.status).toBe(201);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = res.body as {
      certificate: string;
      ca: string;
      fingerprint: string;
      clusterId: string;
      router: { id: string; name: string };
      controllers: string[];
    };
    const ca = readClusterCa(api.model.model)!;
    expect(body.ca).toBe(ca.rootCertPem);
    expect(body.fingerprint).toBe(fingerprint(ca.rootCertPem));
    expect(body.clusterId).toBe(api.node.clusterId);
    expect(body.router).toEqual({ id: routerId, name: 'edge-b' });
    const members = (await api.call('GET', '/cluster')).body.members as { address: string }[];
    expect(body.controllers).toEqual(members.map((m) => `https://${m.address}`));
    const [leaf, intermediate] = certificatesOf(body.certificate);
    expect(verifyChain(leaf!, intermediate!, ca.rootCertPem)).toBe(true);
    expect(spiffeIdsOf(leaf!)).toEqual([spiffeId(api.node.clusterId, 'router', routerId)]);

    const again = await enroll(token);
    expect([again.status, again.body.code]).toEqual([410, 'INVITATION_USED']);
    const listed = (await api.call('GET', '/cluster/invitations')).body.data as Record<string, unknown>[];
    expect(listed.find((i) => i.subject === routerId)).toMatchObject({ state: 'used', usedBy: routerId });
  });

  it('keeps the token when the CSR is bad, and refuses a controller token', async () => {
    const routerId = await createRouter('edge-c');
    const { token } = (await mint(routerId)).body as { token: string };
    const bad = await enroll(
      token,
      '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n',
    );
    expect([bad.status, bad.body.code]).toEqual([400, 'BAD_CERTIFICATE_REQUEST']);
    expect((await enroll(token)).status).toBe(201);

    const controllerToken = (await api.call('POST', '/cluster/invitations', { body: {} })).body
      .token as string;
    const wrong = await enroll(controllerToken);
    expect([wrong.status, wrong.body.code]).toEqual([403, 'WRONG_KIND']);
    const routerToken = (await mint(await createRouter('edge-d'))).body.token as string;
    const join = await api.call('POST', '/cluster/join', {
      token: null,
      body: { token: routerToken, id: 'n9', host: '10.0.0.9', csr: (await createKeyAndCsr('n9')).csrPem },
    });
    expect([join.status, join.body.code]).toEqual([403, 'WRONG_KIND']);
  });

  it('refuses a router that is disabled or gone, and a token altered to name another router', async () => {
    const routerId = await createRouter('edge-e');
    const { token } = (await mint(routerId)).body as { token: string };
    expect((await api.call('PATCH', `/routers/${routerId}`, { body: { disabled: true } })).status).toBe(200);
    const disabled = await enroll(token);
    expect([disabled.status, disabled.body.code]).toEqual([409, 'ROUTER_DISABLED']);
    const minted = await mint(routerId);
    expect([minted.status, minted.body.code]).toEqual([409, 'ROUTER_DISABLED']);

    const missing = await mint('no-such-router');
    expect([missing.status, missing.body.code]).toEqual([404, 'NOT_FOUND']);

    // The subject in the token is covered by the signature: changing it breaks the token.
    const other = await createRouter('edge-f');
    const fresh = (await mint(other)).body.token as string;
    const [body, signature] = fresh.slice('mdjoin1.'.length).split('.') as [string, string];
    const payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Record<string, unknown>;
    const forged = `mdjoin1.${Buffer.from(JSON.stringify({ ...payload, subject: routerId })).toString('base64url')}.${signature}`;
    const altered = await enroll(forged);
    expect([altered.status, altered.body.code]).toEqual([403, 'INVITATION_UNKNOWN']);
  });

  it('tells whether the router holds a good certificate, and its tokens not used yet', async () => {
    const routerId = await createRouter('edge-state');
    const state = async () => (await api.call('GET', `/routers/${routerId}/enrollment`)).body;
    expect(await state()).toEqual({ routerId, enrolled: false, certificate: null, pendingTokens: 0 });
    const { token } = (await mint(routerId)).body as { token: string };
    expect((await state()).pendingTokens).toBe(1);
    const enrolled = await enroll(token);
    const [leaf] = certificatesOf(enrolled.body.certificate as string);
    expect(await state()).toEqual({
      routerId,
      enrolled: true,
      certificate: {
        serial: serialOf(leaf!),
        issuedAt: expect.any(String),
        expiresAt: new Date(new X509Certificate(leaf!).validTo).toISOString(),
      },
      pendingTokens: 0,
    });
    expect((await api.call('PATCH', `/routers/${routerId}`, { body: { disabled: true } })).status).toBe(200);
    expect(await state()).toMatchObject({ enrolled: false, certificate: null });
    const missing = await api.call('GET', '/routers/no-such-router/enrollment');
    expect([missing.status, missing.body.code]).toEqual([404, 'NOT_FOUND']);
  });

  it('is for admins with full rights: no token, no mint', async () => {
    const routerId = await createRouter('edge-g');
    expect(
      (await api.call('POST', `/routers/${routerId}/enrollment`, { token: null, body: {} })).status,
    ).toBe(401);
  });
});
