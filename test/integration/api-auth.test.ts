/** Login, tokens (bad, expired, of deleted admins), the failed-login limit and cluster-signed requests. */
import { SignJWT } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { signClusterRequest } from '../../core/api/cluster-auth.js';
import { ADMIN, CLUSTER_SECRET, startApiNode, type ApiNode } from '../support/api-node.js';
import { useTempDir } from '../support/temp-dir.js';
import { waitFor } from '../support/wait.js';

const dir = useTempDir();
let api: ApiNode | undefined;
afterEach(async () => {
  await api?.stop();
  api = undefined;
});

describe('auth', () => {
  it('logs in, and refuses missing, malformed, forged and wrong-cluster tokens', async () => {
    const a = (api = await startApiNode(dir()));
    const login = await a.call('POST', '/auth/login', { body: ADMIN, token: null });
    expect(login.status).toBe(200);
    expect(Date.parse(login.body.expiresAt)).toBeGreaterThan(Date.now() + 11 * 3600_000);
    expect((await a.call('GET', '/identities', { token: login.body.token })).status).toBe(200);

    const forged = await new SignJWT({ name: 'admin' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('x')
      .setIssuer('meshdesk')
      .setAudience(a.node.clusterId)
      .setExpirationTime('1h')
      .sign(new Uint8Array(32));
    for (const token of [null, 'garbage', `${login.body.token}x`, forged]) {
      const res = await a.call('GET', '/identities', { token });
      expect(res.status, String(token)).toBe(401);
      expect(res.contentType).toContain('application/problem+json');
      if (token !== null) expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    }
    const basic = await a.call('GET', '/identities', {
      token: null,
      headers: { authorization: 'Basic YTpi' },
    });
    expect(basic.status).toBe(401);

    const wrong = await a.call('POST', '/auth/login', {
      body: { username: 'admin', password: 'nope' },
      token: null,
    });
    expect(wrong.status).toBe(401);
    expect(wrong.body.code).toBe('BAD_CREDENTIALS');
    const unknown = await a.call('POST', '/auth/login', {
      body: { username: 'ghost', password: 'nope' },
      token: null,
    });
    expect(unknown.status).toBe(401);
  });

  it('expires tokens', async () => {
    const a = (api = await startApiNode(dir(), { tokenTtlMs: 1000 }));
    const token = await a.login();
    expect((await a.call('GET', '/identities', { token })).status).toBe(200);
    // The token carries whole seconds: it expires within two.
    let code = '';
    await waitFor(
      async () => {
        const res = await a.call('GET', '/identities', { token });
        code = res.body.code;
        return res.status === 401;
      },
      'the token to expire',
      5_000,
      100,
    );
    expect(code).toBe('TOKEN_EXPIRED');
  });

  it('stops accepting a deleted admin’s token', async () => {
    const a = (api = await startApiNode(dir()));
    const created = await a.call('POST', '/admins', { body: { username: 'temp', password: 'temporary pw' } });
    const token = await a.login('temp', 'temporary pw');
    expect((await a.call('GET', '/identities', { token })).status).toBe(200);
    expect((await a.call('DELETE', `/admins/${created.body.id}`)).status).toBe(204);
    expect((await a.call('GET', '/identities', { token })).status).toBe(401);
    // The last admin stays.
    const admins = await a.call('GET', '/admins');
    expect(admins.body.data).toHaveLength(1);
    const last = await a.call('DELETE', `/admins/${admins.body.data[0].id}`);
    expect(last.status).toBe(409);
    expect(last.body.code).toBe('LAST_ADMIN');
  });

  it('limits failed logins per username and address', async () => {
    const a = (api = await startApiNode(dir(), { loginLimit: { max: 3, windowMs: 60_000 } }));
    const attempt = (password: string) =>
      a.call('POST', '/auth/login', { body: { username: 'admin', password }, token: null });
    for (let i = 0; i < 3; i++) expect((await attempt('wrong')).status).toBe(401);
    const limited = await attempt(ADMIN.password);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    // Another username from the same address is not affected.
    const other = await a.call('POST', '/auth/login', {
      body: { username: 'someone', password: 'x' },
      token: null,
    });
    expect(other.status).toBe(401);
  });

  it('accepts a cluster-signed request to add a member, and refuses bad signatures', async () => {
    const a = (api = await startApiNode(dir()));
    // An invalid body gets past auth to validation (400) only when the signature is good.
    const raw = JSON.stringify({ address: 'not an address' });
    const signed = await a.call('POST', '/cluster/members', {
      raw,
      token: null,
      headers: { authorization: signClusterRequest(CLUSTER_SECRET, raw) },
    });
    expect(signed.status).toBe(400);
    expect(signed.body.errors[0].field).toBe('address');
    for (const authorization of [
      signClusterRequest('another secret', raw),
      signClusterRequest(CLUSTER_SECRET, raw, Date.now() - 120_000),
      signClusterRequest(CLUSTER_SECRET, `${raw} `),
      'Cluster 123.abc',
    ]) {
      const res = await a.call('POST', '/cluster/members', { raw, token: null, headers: { authorization } });
      expect(res.status, authorization).toBe(401);
    }
    // A cluster signature is good only for that route.
    const elsewhere = await a.call('GET', '/cluster', {
      token: null,
      headers: { authorization: signClusterRequest(CLUSTER_SECRET, '') },
    });
    expect(elsewhere.status).toBe(401);
  });
});
