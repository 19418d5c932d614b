/** Bearer tokens signed with each node's own key, verified by every node against published keys. */
import { mkdtemp, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { SignJWT, UnsecuredJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { ApiProblem } from '../../../core/api/problem.js';
import {
  openTokenKeyStore,
  type PublishedTokenKey,
  type SigningKey,
  type TokenKeyStore,
} from '../../../core/api/token-keys.js';
import { bearerToken, TokenService } from '../../../core/api/token.js';
import { useTempDir } from '../../support/temp-dir.js';

const subject = { adminId: 'a1', username: 'admin', epoch: 1 };
const root = useTempDir('meshdesk-token-');
/** A data directory of its own for each node of a test. */
const dataDir = (): Promise<string> => mkdtemp(join(root(), 'node-'));

/** The published keys of one cluster (the model's settings, in memory). */
class Published {
  readonly keys = new Map<string, PublishedTokenKey>();
  publications = 0;
  publish(node: string, key: SigningKey): void {
    this.publications += 1;
    if (!this.keys.has(key.kid)) {
      const { x, y } = key.publicJwk as { x: string; y: string };
      this.keys.set(key.kid, { kid: key.kid, node, jwk: { kty: 'EC', crv: 'P-256', x, y }, at: 'x' });
    }
  }
  retireAll(): void {
    for (const [kid, key] of this.keys) this.keys.set(kid, { ...key, retiredAt: 'y' });
  }
}

let clock = 1_800_000_000_000;
const now = () => clock;

async function node(
  published: Published,
  name: string,
  options: { clusterId?: string; keys?: TokenKeyStore } = {},
): Promise<{ tokens: TokenService; keys: TokenKeyStore; dir: string }> {
  const dir = await dataDir();
  const keys = options.keys ?? (await openTokenKeyStore(dir));
  const tokens = new TokenService({
    clusterId: options.clusterId ?? 'c1',
    keys,
    published: (kid) => published.keys.get(kid),
    publish: async (key) => published.publish(name, key),
    ttlMs: 60_000,
    now,
  });
  return { tokens, keys, dir };
}

async function refusal(promise: Promise<unknown>): Promise<ApiProblem> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApiProblem);
  return err as ApiProblem;
}

/** A token signed with `key` carrying whatever claims the test chooses. */
function forged(
  key: SigningKey,
  iat: number,
  exp: number,
  claims: Record<string, unknown> = { name: 'admin', ep: 1 },
): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'ES256', kid: key.kid })
    .setSubject('a1')
    .setIssuer('meshdesk')
    .setAudience('c1')
    .setIssuedAt(iat)
    .setExpirationTime(exp)
    .sign(key.privateKey);
}

describe('TokenService', () => {
  it('signs with this node’s key, publishing it once, and any node of the cluster verifies', async () => {
    const published = new Published();
    const a = await node(published, 'n1');
    const b = await node(published, 'n2');
    const [first, second] = await Promise.all([a.tokens.issue(subject), a.tokens.issue(subject)]);
    expect(published.publications).toBe(1);
    expect(first.expiresAt).toBe(new Date(clock + 60_000).toISOString());
    expect(await b.tokens.verify(first.token)).toMatchObject({ ...subject, expiresAt: clock + 60_000 });
    expect(await b.tokens.verify(second!.token)).toMatchObject(subject);
    expect(JSON.parse(Buffer.from(first.token.split('.')[0]!, 'base64url').toString())).toEqual({
      alg: 'ES256',
      typ: 'JWT',
      kid: a.keys.current().kid,
    });
    await a.tokens.issue(subject);
    expect(published.publications).toBe(1);
  });

  it('keeps its key in a file only its owner reads, the same across restarts', async () => {
    const published = new Published();
    const a = await node(published, 'n1');
    const file = await stat(join(a.dir, 'token-signing.key'));
    expect(file.mode & 0o777).toBe(0o600);
    expect((await openTokenKeyStore(a.dir)).current().kid).toBe(a.keys.current().kid);
  });

  it('refuses an expired token as TOKEN_EXPIRED', async () => {
    const published = new Published();
    const a = await node(published, 'n1');
    const issued = await a.tokens.issue(subject);
    clock += 61_000;
    expect(await refusal(a.tokens.verify(issued.token))).toMatchObject({
      status: 401,
      code: 'TOKEN_EXPIRED',
    });
  });

  it('refuses another cluster, an unpublished key, garbage, HS256 and unsigned tokens', async () => {
    const published = new Published();
    const a = await node(published, 'n1');
    const issued = await a.tokens.issue(subject);
    const otherCluster = await node(published, 'n2', { clusterId: 'c2' });
    const stranger = await openTokenKeyStore(await dataDir());
    const t = Math.floor(clock / 1000);
    const hs256 = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256', kid: a.keys.current().kid })
      .setSubject('a1')
      .setIssuer('meshdesk')
      .setAudience('c1')
      .setIssuedAt(t)
      .setExpirationTime(t + 30)
      .sign(Buffer.alloc(32, 1));
    const unsigned = new UnsecuredJWT({}).setSubject('a1').setIssuer('meshdesk').setAudience('c1').encode();
    for (const [what, verifier, token] of [
      ['another cluster', otherCluster.tokens, issued.token],
      ['a key never published', a.tokens, await forged(stranger.current(), t, t + 30)],
      ['garbage', a.tokens, 'a.b.c'],
      ['HS256 under a published kid', a.tokens, hs256],
      ['alg none', a.tokens, unsigned],
    ] as const) {
      expect({ what, ...(await refusal(verifier.verify(token))) }).toMatchObject({
        what,
        status: 401,
        code: 'INVALID_TOKEN',
      });
    }
  });

  it('refuses a token that claims a longer life than tokens are given, or an issue in the future', async () => {
    const published = new Published();
    const a = await node(published, 'n1');
    await a.tokens.issue(subject);
    const key = a.keys.current();
    const t = Math.floor(clock / 1000);
    // Signed with a real published key: only the claims are wrong.
    expect(await refusal(a.tokens.verify(await forged(key, t, t + 4_000_000_000)))).toMatchObject({
      code: 'INVALID_TOKEN',
      message: 'the token claims a longer life than tokens are given',
    });
    expect(await refusal(a.tokens.verify(await forged(key, t + 3600, t + 3630)))).toMatchObject({
      code: 'INVALID_TOKEN',
      message: 'the token claims to be issued in the future',
    });
    expect(await a.tokens.verify(await forged(key, t - 10, t + 50))).toMatchObject(subject);
    // Without the admin's auth epoch it speaks for no session.
    expect(await refusal(a.tokens.verify(await forged(key, t, t + 30, { name: 'admin' })))).toMatchObject({
      code: 'INVALID_TOKEN',
    });
  });

  it('catches up once before refusing a key it does not know: another node may have just published it', async () => {
    const published = new Published();
    const lagging = new Map<string, PublishedTokenKey>();
    let catchUps = 0;
    const dir = await dataDir();
    const b = new TokenService({
      clusterId: 'c1',
      keys: await openTokenKeyStore(dir),
      published: (kid) => lagging.get(kid),
      publish: async () => undefined,
      catchUp: async () => {
        catchUps += 1;
        for (const [kid, key] of published.keys) lagging.set(kid, key);
      },
      ttlMs: 60_000,
      now,
    });
    const a = await node(published, 'n1');
    const issued = await a.tokens.issue(subject);
    expect(await b.verify(issued.token)).toMatchObject(subject);
    expect(catchUps).toBe(1);
    // A kid of no key at all: refused after one catch-up; a kid that is no thumbprint, without one.
    const stranger = await openTokenKeyStore(await dataDir());
    const t = Math.floor(clock / 1000);
    expect(await refusal(b.verify(await forged(stranger.current(), t, t + 30)))).toMatchObject({
      code: 'INVALID_TOKEN',
    });
    expect(catchUps).toBe(2);
    const odd = await new SignJWT({ ep: 1 })
      .setProtectedHeader({ alg: 'ES256', kid: 'not-a-thumbprint' })
      .sign(stranger.current().privateKey);
    expect(await refusal(b.verify(odd))).toMatchObject({ code: 'INVALID_TOKEN' });
    expect(catchUps).toBe(2);
  });

  it('refuses every token of a retired key, remembered ones too, and signs again with a new key', async () => {
    const published = new Published();
    const a = await node(published, 'n1');
    const b = await node(published, 'n2');
    const old = await a.tokens.issue(subject);
    expect(await b.tokens.verify(old.token)).toMatchObject(subject); // now remembered by b
    const oldKid = a.keys.current().kid;
    published.retireAll();
    expect(await refusal(b.tokens.verify(old.token))).toMatchObject({ code: 'INVALID_TOKEN' });
    const fresh = await a.tokens.issue(subject);
    expect(a.keys.current().kid).not.toBe(oldKid);
    expect((await openTokenKeyStore(a.dir)).current().kid).toBe(a.keys.current().kid);
    expect(await b.tokens.verify(fresh.token)).toMatchObject(subject);
    expect(await refusal(b.tokens.verify(old.token))).toMatchObject({ code: 'INVALID_TOKEN' });
  });
});

describe('bearerToken', () => {
  it('takes the token of a Bearer header only', () => {
    expect(bearerToken('Bearer abc.def-ghi_jkl')).toBe('abc.def-ghi_jkl');
    expect(bearerToken('bearer x')).toBe('x');
    expect(bearerToken('Basic abc')).toBeUndefined();
    expect(bearerToken('Bearer a b')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });
});
