/**
 * `/cluster/invitations` on a real node: an admin mints a one-time join token (shown once, never
 * stored: the model keeps its secret's hash), lists tokens with their state, and revokes one. The
 * token names this cluster, pins its root CA by fingerprint, names this node's API, and the
 * model's intermediate CA signed it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invitationSecretHash, parseJoinToken, signedBy } from '../../core/cluster/join-token.js';
import { readClusterCa } from '../../core/model/pki.js';
import { fingerprint } from '../../core/pki/ca.js';
import { startApiNode, type ApiNode } from '../support/api-node.js';

let api: ApiNode;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'meshdesk-invitations-'));
  api = await startApiNode(dir);
});

afterAll(async () => {
  await api?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('join tokens through the API', () => {
  it('are minted once, signed by the cluster, pinning its CA, and only their hash is kept', async () => {
    const before = Date.now();
    const res = await api.call('POST', '/cluster/invitations', { body: { expiresInMinutes: 30 } });
    expect(res.status).toBe(201);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(Number(res.headers.get('x-raft-index'))).toBeGreaterThan(0);
    const { token, invitation } = res.body as {
      token: string;
      invitation: { id: string; state: string; expiresAt: string };
    };
    const parsed = parseJoinToken(token);
    const ca = readClusterCa(api.model.model)!;
    expect(signedBy(parsed, ca.intermediateCertPem)).toBe(true);
    expect(parsed.payload).toMatchObject({
      v: 1,
      kind: 'controller',
      clusterId: api.node.clusterId,
      member: api.url,
      caFingerprint: fingerprint(ca.rootCertPem),
      id: invitation.id,
      expiresAt: invitation.expiresAt,
    });
    const lifetime = Date.parse(invitation.expiresAt) - before;
    expect(lifetime).toBeGreaterThanOrEqual(30 * 60_000 - 1_000);
    expect(lifetime).toBeLessThanOrEqual(30 * 60_000 + 5_000);
    expect(invitation.state).toBe('pending');
    // The model holds the secret's hash, never the secret.
    const stored = JSON.stringify(api.model.model.rows('SELECT * FROM invitations'));
    expect(stored).toContain(invitationSecretHash(parsed.payload.secret));
    expect(stored).not.toContain(parsed.payload.secret);
  });

  it('are listed with their state, never with their secrets, and revoked until used', async () => {
    const minted = await api.call('POST', '/cluster/invitations', { body: {} });
    const { id } = minted.body.invitation as { id: string };
    const secret = parseJoinToken(minted.body.token as string).payload.secret;
    const list = await api.call('GET', '/cluster/invitations');
    expect(list.status).toBe(200);
    const listed = (list.body.data as { id: string; state: string }[]).find((i) => i.id === id);
    expect(listed?.state).toBe('pending');
    expect(JSON.stringify(list.body)).not.toContain(secret);
    expect(JSON.stringify(list.body)).not.toContain(invitationSecretHash(secret));

    const revoked = await api.call('DELETE', `/cluster/invitations/${id}`);
    expect(revoked.status).toBe(200);
    expect(revoked.body).toMatchObject({ id, state: 'revoked' });
    const again = await api.call('DELETE', `/cluster/invitations/${id}`);
    expect(again.body.state).toBe('revoked'); // revoking twice changes nothing
    const missing = await api.call('DELETE', '/cluster/invitations/nope');
    expect([missing.status, missing.body.code]).toEqual([404, 'NOT_FOUND']);
  });

  it('refuse a lifetime beyond a week or below a minute, and callers without a token', async () => {
    for (const expiresInMinutes of [0, 7 * 24 * 60 + 1, 1.5]) {
      const res = await api.call('POST', '/cluster/invitations', { body: { expiresInMinutes } });
      expect(res.status, String(expiresInMinutes)).toBe(400);
    }
    expect((await api.call('POST', '/cluster/invitations', { token: null, body: {} })).status).toBe(401);
    expect((await api.call('GET', '/cluster/invitations', { token: null })).status).toBe(401);
  });
});
