/**
 * Admin bearer tokens: JWTs signed with HS256 under the cluster-wide key kept in the replicated
 * model (setting `auth.jwtKey`), so a token issued by one node is accepted by every node. The
 * audience is the cluster id: a token never crosses clusters.
 */
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

export class TokenService {
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(private readonly options: TokenOptions) {
    this.ttlMs = options.ttlMs ?? DEFAULT_TOKEN_TTL_MS;
    this.now = options.now ?? Date.now;
  }

  private secret(): Uint8Array {
    const key = this.options.key();
    if (!key) {
      throw new ApiProblem(503, 'NOT_BOOTSTRAPPED', 'this cluster has no token signing key yet', [], {
        'retry-after': '1',
      });
    }
    return Buffer.from(key, 'base64url');
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
      .sign(this.secret());
    return { token, expiresAt: new Date(Math.floor(expires / 1000) * 1000).toISOString() };
  }

  /** The token's subject; throws a 401 ApiProblem for any token that is not good now. */
  async verify(token: string): Promise<VerifiedToken> {
    const secret = this.secret();
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
