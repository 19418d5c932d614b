/**
 * Admin bearer tokens: JWTs signed with HS256 under the cluster-wide key kept in the replicated
 * model (setting `auth.jwtKey`), so a token issued by one node is accepted by every node. The
 * audience is the cluster id: a token never crosses clusters.
 */
import { webcrypto } from 'node:crypto';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { ApiProblem } from './problem.js';

export const JWT_KEY_SETTING = 'auth.jwtKey';
export const DEFAULT_TOKEN_TTL_MS = 12 * 60 * 60 * 1000;
const ISSUER = 'meshdesk';

export interface TokenSubject {
  readonly adminId: string;
  readonly username: string;
}

export interface VerifiedToken extends TokenSubject {
  /** Expiry, milliseconds since the epoch. */
  readonly expiresAt: number;
}

export interface TokenOptions {
  readonly clusterId: string;
  /** The current signing key (base64url), read from the model per call; undefined before bootstrap. */
  readonly key: () => string | undefined;
  readonly ttlMs?: number;
  readonly now?: () => number;
}

function unauthorized(code: string, detail: string): ApiProblem {
  return new ApiProblem(401, code, detail, [], { 'www-authenticate': `Bearer error="invalid_token"` });
}

/** How many verified tokens are remembered (a few admins, a few sessions each). */
const VERIFIED_CACHE_SIZE = 1024;

export class TokenService {
  private readonly ttlMs: number;
  private readonly now: () => number;
  /**
   * The signing key imported once per key value: importing it on every request was the largest
   * cost of an authenticated request. Verified tokens are remembered under the same key value, so
   * a repeated token costs a map lookup; its expiry is still checked every time.
   */
  private imported: { readonly raw: string; readonly key: Promise<webcrypto.CryptoKey> } | undefined;
  private readonly verified = new Map<string, VerifiedToken>();

  constructor(private readonly options: TokenOptions) {
    this.ttlMs = options.ttlMs ?? DEFAULT_TOKEN_TTL_MS;
    this.now = options.now ?? Date.now;
  }

  private secret(): Promise<webcrypto.CryptoKey> {
    const raw = this.options.key();
    if (!raw) {
      throw new ApiProblem(503, 'NOT_BOOTSTRAPPED', 'this cluster has no token signing key yet', [], {
        'retry-after': '1',
      });
    }
    if (this.imported?.raw !== raw) {
      this.verified.clear();
      const bytes = Buffer.from(raw, 'base64url');
      const key = webcrypto.subtle.importKey('raw', bytes, { name: 'HMAC', hash: 'SHA-256' }, false, [
        'sign',
        'verify',
      ]);
      this.imported = { raw, key };
    }
    return this.imported.key;
  }

  async issue(subject: TokenSubject): Promise<{ token: string; expiresAt: string }> {
    const now = this.now();
    const expires = now + this.ttlMs;
    const token = await new SignJWT({ name: subject.username })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(subject.adminId)
      .setIssuer(ISSUER)
      .setAudience(this.options.clusterId)
      .setIssuedAt(Math.floor(now / 1000))
      .setExpirationTime(Math.floor(expires / 1000))
      .sign(await this.secret());
    return { token, expiresAt: new Date(Math.floor(expires / 1000) * 1000).toISOString() };
  }

  /** The token's subject; throws a 401 ApiProblem for any token that is not good now. */
  async verify(token: string): Promise<VerifiedToken> {
    const secret = await this.secret();
    const known = this.verified.get(token);
    if (known) {
      if (known.expiresAt > this.now()) return known;
      this.verified.delete(token);
    }
    const verified = await this.verifyAnew(token, secret);
    if (this.verified.size >= VERIFIED_CACHE_SIZE) {
      this.verified.delete(this.verified.keys().next().value as string);
    }
    this.verified.set(token, verified);
    return verified;
  }

  private async verifyAnew(token: string, secret: webcrypto.CryptoKey): Promise<VerifiedToken> {
    try {
      const { payload } = await jwtVerify(token, secret, {
        algorithms: ['HS256'],
        issuer: ISSUER,
        audience: this.options.clusterId,
        currentDate: new Date(this.now()),
        requiredClaims: ['sub', 'exp'],
      });
      return {
        adminId: String(payload.sub),
        username: typeof payload.name === 'string' ? payload.name : '',
        expiresAt: (payload.exp ?? 0) * 1000,
      };
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) throw unauthorized('TOKEN_EXPIRED', 'the token has expired');
      throw unauthorized('INVALID_TOKEN', 'the token is not valid');
    }
  }
}

/** The token of an `Authorization: Bearer T` header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer ([A-Za-z0-9._~+/=-]+)$/i.exec(header?.trim() ?? '');
  return match?.[1];
}

export { unauthorized };
