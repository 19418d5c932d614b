/** Bearer tokens under the cluster's signing key. */
import { describe, expect, it } from 'vitest';
import { newJwtKey } from '../../../core/api/bootstrap.js';
import { ApiProblem } from '../../../core/api/problem.js';
import { bearerToken, TokenService } from '../../../core/api/token.js';

const subject = { adminId: 'a1', username: 'admin' };

function service(key: string | undefined, now: () => number, clusterId = 'c1') {
  return new TokenService({ clusterId, key: () => key, ttlMs: 60_000, now });
}

async function refusal(promise: Promise<unknown>): Promise<ApiProblem> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApiProblem);
  return err as ApiProblem;
}

describe('TokenService', () => {
  const key = newJwtKey();
  let clock = 1_800_000_000_000;
  const now = () => clock;

  it('issues a token that verifies on any node with the same key and cluster', async () => {
    const issued = await service(key, now).issue(subject);
    expect(issued.expiresAt).toBe(new Date(clock + 60_000).toISOString());
    const other = service(key, now);
    expect(await other.verify(issued.token)).toMatchObject({ ...subject, expiresAt: clock + 60_000 });
  });

  it('refuses an expired token as TOKEN_EXPIRED', async () => {
    const issued = await service(key, now).issue(subject);
    clock += 61_000;
    const err = await refusal(service(key, now).verify(issued.token));
    expect(err).toMatchObject({ status: 401, code: 'TOKEN_EXPIRED' });
  });

  it('refuses another key, another cluster and garbage as INVALID_TOKEN', async () => {
    const issued = await service(key, now).issue(subject);
    for (const verifier of [service(newJwtKey(), now), service(key, now, 'c2')]) {
      expect(await refusal(verifier.verify(issued.token))).toMatchObject({
        status: 401,
        code: 'INVALID_TOKEN',
      });
    }
    expect(await refusal(service(key, now).verify('a.b.c'))).toMatchObject({ code: 'INVALID_TOKEN' });
  });

  it('still refuses a remembered token once it expires, and forgets tokens when the key changes', async () => {
    let current = key;
    const tokens = new TokenService({ clusterId: 'c1', key: () => current, ttlMs: 60_000, now });
    const issued = await tokens.issue(subject);
    expect(await tokens.verify(issued.token)).toMatchObject(subject);
    expect(await tokens.verify(issued.token)).toMatchObject(subject); // remembered
    current = newJwtKey(); // the cluster's key was replaced: the old token is no good any more
    expect(await refusal(tokens.verify(issued.token))).toMatchObject({ code: 'INVALID_TOKEN' });
    current = key;
    expect(await tokens.verify(issued.token)).toMatchObject(subject);
    clock += 61_000;
    expect(await refusal(tokens.verify(issued.token))).toMatchObject({ code: 'TOKEN_EXPIRED' });
  });

  it('answers 503 before the cluster has a signing key', async () => {
    expect(await refusal(service(undefined, now).issue(subject))).toMatchObject({ status: 503 });
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
