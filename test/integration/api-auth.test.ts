/** Login, tokens (bad, expired, of deleted admins), the failed-login limit and node-signed requests. */
import { createPrivateKey } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { io } from 'socket.io-client';
import { LEGACY_JWT_KEY_SETTING, TOKEN_KEY_SETTING_PREFIX } from '../../core/api/token-keys.js';
import { encodeCommand } from '../../core/model/commands.js';
import { readSetting } from '../../core/model/settings.js';
import { afterEach, describe, expect, it } from 'vitest';
import { signNodeRequest } from '../../core/cluster/node-signature.js';
import { ADMIN, startApiNode, type ApiNode } from '../support/api-node.js';
import { testTls } from '../support/test-pki.js';
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
    // Two seconds: a token carries whole seconds, so it lives more than one (a one-second token
    // issued late in a second could expire before the first call under load).
    const a = (api = await startApiNode(dir(), { tokenTtlMs: 2000 }));
    const token = await a.login();
    const first = await a.call('GET', '/identities', { token });
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    // It expires within three.
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

  it('signs with the node’s own key, whose public half alone is replicated; rotation refuses every earlier token', async () => {
    const a = (api = await startApiNode(dir()));
    // A cluster made by an earlier version still holds the shared HS256 secret.
    const at = new Date().toISOString();
    await a.node.replica.propose(
      encodeCommand({ op: 'setSetting', key: LEGACY_JWT_KEY_SETTING, value: 'old-shared-secret', at }),
    );
    const token = await a.login();
    const keyFile = join(dir(), 'token-signing.key');
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    const secret = createPrivateKey(await readFile(keyFile, 'utf8')).export({ format: 'jwk' }).d as string;
    const settings = a.model.model.all('SELECT key, value FROM settings');
    const published = settings.filter((row) => String(row.key).startsWith(TOKEN_KEY_SETTING_PREFIX));
    expect(published).toHaveLength(1);
    expect(JSON.parse(String(published[0]!.value)).jwk).not.toHaveProperty('d');
    expect(settings.some((row) => String(row.value).includes(secret))).toBe(false);

    const rotated = await a.call('POST', '/cluster/token-keys/rotate', { token });
    expect(rotated.status).toBe(200);
    expect(rotated.body.retired).toEqual([String(published[0]!.key).slice(TOKEN_KEY_SETTING_PREFIX.length)]);
    expect(readSetting(a.model.model, LEGACY_JWT_KEY_SETTING)).toBeUndefined();
    const refused = await a.call('GET', '/identities', { token });
    expect([refused.status, refused.body.code]).toEqual([401, 'INVALID_TOKEN']);
    // The node signs again, with a new key.
    const fresh = await a.login();
    expect((await a.call('GET', '/identities', { token: fresh })).status).toBe(200);
    expect(fresh.split('.')[0]).not.toBe(token.split('.')[0]);
    expect((await a.call('POST', '/cluster/token-keys/rotate', { token: fresh })).body.retired).toHaveLength(
      1,
    );
  });

  it('ends every session of an admin on a new password or a sign-out, REST and live events alike', async () => {
    const a = (api = await startApiNode(dir()));
    const created = await a.call('POST', '/admins', {
      body: { username: 'ops', password: 'first password' },
    });
    const id = created.body.id as string;
    const before = await a.login('ops', 'first password');
    const socket = io(`${a.url}/events`, {
      auth: { token: before },
      transports: ['websocket'],
      reconnection: false,
    });
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));

    // A change that is no new password keeps the sessions.
    expect((await a.call('PATCH', `/admins/${id}`, { body: { tags: { team: 'night' } } })).status).toBe(200);
    expect((await a.call('GET', '/identities', { token: before })).status).toBe(200);
    expect(socket.connected).toBe(true);

    expect((await a.call('PATCH', `/admins/${id}`, { body: { password: 'second password' } })).status).toBe(
      200,
    );
    const refused = await a.call('GET', '/identities', { token: before });
    expect([refused.status, refused.body.code]).toEqual([401, 'SESSION_ENDED']);
    await waitFor(() => !socket.connected, 'the live events of the old session to close');
    socket.close();

    // Signing out ends every session of that admin, the one signing out included; others keep theirs.
    const one = await a.login('ops', 'second password');
    const two = await a.login('ops', 'second password');
    const other = await a.login();
    const out = await a.call('POST', '/auth/logout', { token: one });
    expect(out.status).toBe(204);
    expect(Number(out.headers.get('x-raft-index'))).toBeGreaterThan(0);
    for (const token of [one, two]) {
      expect((await a.call('GET', '/identities', { token })).body.code).toBe('SESSION_ENDED');
    }
    expect((await a.call('GET', '/identities', { token: other })).status).toBe(200);
    const late = io(`${a.url}/events`, {
      auth: { token: two },
      transports: ['websocket'],
      reconnection: false,
    });
    const error = await new Promise<Error & { data?: { code?: string } }>((resolve) =>
      late.once('connect_error', resolve),
    );
    expect(error.data?.code).toBe('SESSION_ENDED');
    late.close();
    expect(
      (await a.call('GET', '/identities', { token: await a.login('ops', 'second password') })).status,
    ).toBe(200);
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

  it('slows guessing down without locking the admin out: 50 guesses at once, then the right password', async () => {
    const a = (api = await startApiNode(dir(), {
      loginGuard: { freeFailures: 3, baseDelayMs: 500, maxDelayMs: 500, maxPending: 4 },
    }));
    const attempt = (password: string) =>
      a.call('POST', '/auth/login', { body: { username: 'admin', password }, token: null });
    // The free failures first, one after another: from here on the first guess in line waits
    // half a second before its check, so all 50 are in before any slot frees up (a free first
    // guess could finish before the last one arrived and let a fifth in).
    for (let i = 0; i < 3; i++) expect((await attempt('wrong')).status).toBe(401);
    const answers = await Promise.all(Array.from({ length: 50 }, () => attempt('wrong')));
    const statuses = answers.map((r) => r.status);
    // Four wait their turn and are checked; the rest are refused before any password check.
    expect(statuses.filter((s) => s === 401)).toHaveLength(4);
    expect(statuses.filter((s) => s === 429)).toHaveLength(46);
    const limited = answers.find((r) => r.status === 429)!;
    expect(limited.body.code).toBe('TOO_MANY_FAILED_LOGINS');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    // The right password still works (after the account's delay), and clears the failures.
    expect((await attempt(ADMIN.password)).status).toBe(200);
    // Another username is not slowed by admin's failures.
    const other = await a.call('POST', '/auth/login', {
      body: { username: 'someone', password: 'x' },
      token: null,
    });
    expect(other.status).toBe(401);
  });

  it('lets a node add only itself, by a request its own certificate signed, and refuses bad signatures', async () => {
    const a = (api = await startApiNode(dir()));
    const joiner = await testTls(a.node.clusterId, 'n-joiner');
    const path = '/api/v1/cluster/members';
    const signed = (raw: string, key = joiner, now = Date.now(), signedPath = path) =>
      signNodeRequest(key, { method: 'POST', path: signedPath, body: raw }, now);
    // An invalid body gets past auth to validation (400) only when the signature is good.
    const raw = JSON.stringify({ id: 'n-joiner', address: 'not an address' });
    const good = await a.call('POST', '/cluster/members', { raw, token: null, headers: signed(raw) });
    expect(good.status).toBe(400);
    expect(good.body.errors[0].field).toBe('address');
    // Another node's id, by a well-signed request: not for a node to ask.
    const other = JSON.stringify({ id: 'n-else', address: '127.0.0.1:1' });
    const forOther = await a.call('POST', '/cluster/members', {
      raw: other,
      token: null,
      headers: signed(other),
    });
    expect(forOther.status).toBe(403);
    expect(forOther.body.detail).toMatch(/adds only itself/);
    const foreign = await testTls('c-another-cluster', 'n-joiner');
    for (const [why, headers] of [
      ['another cluster', signed(raw, foreign)],
      ['a stale clock', signed(raw, joiner, Date.now() - 120_000)],
      ['another body', signed(`${raw} `)],
      ['another path', signed(raw, joiner, Date.now(), '/api/v1/cluster/snapshot')],
      ['junk', { authorization: 'Node 123.abc', 'x-meshdesk-node-certificate': 'AAAA' }],
    ] as const) {
      const res = await a.call('POST', '/cluster/members', { raw, token: null, headers });
      expect(res.status, why).toBe(401);
      expect(res.body.code, why).toBe('BAD_NODE_SIGNATURE');
    }
    // A node signature is good only on that route.
    const elsewhere = await a.call('GET', '/cluster', {
      token: null,
      headers: signNodeRequest(joiner, { method: 'GET', path: '/api/v1/cluster', body: '' }),
    });
    expect(elsewhere.status).toBe(401);
    expect(a.node.replica.status().conf.voters).toHaveLength(1);
  });
});
