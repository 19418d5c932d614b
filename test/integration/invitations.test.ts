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
import {
  invitationSecretHash,
  mintJoinToken,
  newInvitationSecret,
  parseJoinToken,
  signedBy,
} from '../../core/cluster/join-token.js';
import { encodeCommand } from '../../core/model/commands.js';
import { readClusterCa } from '../../core/model/pki.js';
import {
  certificatesOf,
  createClusterCa,
  createKeyAndCsr,
  fingerprint,
  spiffeIdsOf,
  verifyChain,
} from '../../core/pki/ca.js';
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

/** A joining node's request for `token`: a fresh key's CSR. */
async function joinWith(token: string, id: string, csr?: string) {
  const request = csr ?? (await createKeyAndCsr(id)).csrPem;
  return api.call('POST', '/cluster/join', {
    token: null,
    body: { token, id, host: '10.0.0.9', csr: request },
  });
}

async function mint(): Promise<string> {
  return (await api.call('POST', '/cluster/invitations', { body: {} })).body.token as string;
}

const invitationRows = () => JSON.stringify(api.model.model.rows('SELECT * FROM invitations ORDER BY id'));

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

  it('are spent once for a certificate that names the joining node', async () => {
    const token = await mint();
    const res = await joinWith(token, 'n-new');
    expect(res.status).toBe(201);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const [leaf, intermediate] = certificatesOf(res.body.certificate as string) as [string, string];
    expect(verifyChain(leaf, intermediate, res.body.ca as string)).toBe(true);
    expect(spiffeIdsOf(leaf)).toEqual([`spiffe://${api.node.clusterId}/controller/n-new`]);
    expect(res.body.fingerprint).toBe(fingerprint(res.body.ca as string));
    const { id } = parseJoinToken(token).payload;
    const listed = (await api.call('GET', '/cluster/invitations')).body.data as {
      id: string;
      state: string;
      usedBy: string;
    }[];
    expect(listed.find((i) => i.id === id)).toMatchObject({ state: 'used', usedBy: 'n-new' });

    const before = invitationRows();
    const again = await joinWith(token, 'n-other');
    expect([again.status, again.body.code]).toEqual([410, 'INVITATION_USED']);
    expect(again.body.detail).toBe('the invitation was already used; ask for a new one');
    expect(invitationRows()).toBe(before);
  });

  it('are spent once when two nodes present one at the same time', async () => {
    const token = await mint();
    const answers = await Promise.all([joinWith(token, 'n-a'), joinWith(token, 'n-b')]);
    expect(answers.map((a) => a.status).sort()).toEqual([201, 410]);
  });

  it('are refused when altered, of another cluster, expired or revoked, and nothing changes', async () => {
    const token = await mint();
    const before = invitationRows();
    const i = token.length - 30;
    const altered = token.slice(0, i) + (token[i] === 'A' ? 'B' : 'A') + token.slice(i + 1);
    const other = await createClusterCa(api.node.clusterId);
    const payload = { ...parseJoinToken(token).payload };
    const cases: [string, number, string][] = [
      [altered, 403, 'INVITATION_UNKNOWN'],
      [token.slice(0, 50), 400, 'INVALID'],
      [
        mintJoinToken({ ...payload, clusterId: 'c-elsewhere' }, other.intermediate.keyPem),
        403,
        'WRONG_CLUSTER',
      ],
      [mintJoinToken(payload, other.intermediate.keyPem), 403, 'INVITATION_UNKNOWN'],
    ];
    for (const [text, status, code] of cases) {
      const res = await joinWith(text, 'n-x');
      expect([res.status, res.body.code], code).toEqual([status, code]);
      expect(String(res.body.detail)).not.toContain('\n');
    }
    expect(invitationRows()).toBe(before);

    // Expired: an invitation whose hour is over, signed like any other.
    const ca = readClusterCa(api.model.model)!;
    const secret = newInvitationSecret();
    const hourAgo = new Date(Date.now() - 3_600_000).toISOString();
    await api.node.replica.propose(
      encodeCommand({
        op: 'createInvitation',
        id: 'old-one',
        kind: 'controller',
        secretHash: invitationSecretHash(secret),
        at: new Date(Date.now() - 7_200_000).toISOString(),
        expiresAt: hourAgo,
      }),
    );
    const expired = mintJoinToken(
      { ...payload, id: 'old-one', secret, expiresAt: hourAgo },
      ca.intermediateKeyPem,
    );
    expect((await joinWith(expired, 'n-x')).body.code).toBe('INVITATION_EXPIRED');

    const revoked = await mint();
    await api.call('DELETE', `/cluster/invitations/${parseJoinToken(revoked).payload.id}`);
    expect((await joinWith(revoked, 'n-x')).body).toMatchObject({ status: 410, code: 'INVITATION_REVOKED' });
  });

  it('are not spent by a request whose CSR does not verify, or for a node that is already a member', async () => {
    const token = await mint();
    const bad = await joinWith(token, 'n-y', 'not a csr');
    expect([bad.status, bad.body.code]).toEqual([400, 'BAD_CERTIFICATE_REQUEST']);
    const member = await joinWith(token, api.node.id);
    expect([member.status, member.body.code]).toEqual([409, 'MEMBERSHIP_CONFLICT']);
    expect((await joinWith(token, 'n-y')).status).toBe(201); // still good for its holder
  });
});
