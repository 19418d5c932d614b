/**
 * Admin bearer tokens: JWTs signed ES256 with the issuing node's own key (token-keys.ts), its kid
 * in the header; every node verifies them against the public keys published in the model. The
 * audience is the cluster id: a token never crosses clusters. A token may not live longer than the
 * configured lifetime (`exp - iat`), whatever its signer wrote, nor be issued in the future.
 */
import { decodeProtectedHeader, errors as joseErrors, importJWK, jwtVerify, SignJWT } from 'jose';
import { ApiProblem } from './problem.js';
import { isLive, type PublishedTokenKey, type SigningKey, type TokenKeyStore } from './token-keys.js';

export const DEFAULT_TOKEN_TTL_MS = 12 * 60 * 60 * 1000;
const ISSUER = 'meshdesk';
const ALGORITHM = 'ES256';
/** How far in the future a token's `iat` may be: the issuing node's clock may run ahead a little. */
const CLOCK_SKEW_SECONDS = 60;

export interface TokenSubject {
  readonly adminId: string;
  readonly username: string;
  /** The admin's auth epoch at issue: a later password change or sign-out raises it (auth.ts). */
  readonly epoch: number;
}

export interface VerifiedToken extends TokenSubject {
  /** Expiry, milliseconds since the epoch. */
  readonly expiresAt: number;
}

export interface TokenOptions {
  readonly clusterId: string;
  /** This node's signing key. */
  readonly keys: TokenKeyStore;
  /** A published public key by kid (read from the model per call). */
  readonly published: (kid: string) => PublishedTokenKey | undefined;
  /** Publishes this node's public key through Raft; resolves once applied here. */
  readonly publish: (key: SigningKey) => Promise<void>;
  /**
   * Brings this node up to the cluster's commit index (a linearizable read point): a key another
   * node published a moment ago may not have applied here yet. Absent: nothing to wait for.
   */
  readonly catchUp?: () => Promise<void>;
  readonly ttlMs?: number;
  readonly now?: () => number;
}

function unauthorized(code: string, detail: string): ApiProblem {
  return new ApiProblem(401, code, detail, [], { 'www-authenticate': `Bearer error="invalid_token"` });
}

/** The form of a kid (a SHA-256 JWK thumbprint, base64url). */
const KID = /^[A-Za-z0-9_-]{43}$/;

/** How many verified tokens are remembered (a few admins, a few sessions each). */
const VERIFIED_CACHE_SIZE = 1024;

interface Remembered extends VerifiedToken {
  readonly kid: string;
}

export class TokenService {
  private readonly ttlMs: number;
  private readonly now: () => number;
  /** Public keys imported once per kid: importing on every request was the largest cost of one. */
  private readonly imported = new Map<string, ReturnType<typeof importJWK>>();
  /** Verified tokens: a repeated token costs a map lookup; its key and expiry are still checked. */
  private readonly verified = new Map<string, Remembered>();
  /** One publication at a time (logins arriving together share it). */
  private publishing: Promise<SigningKey> | undefined;
  /** One catch-up at a time: tokens under unknown kids (a stranger's too) share it. */
  private catchingUp: Promise<void> | undefined;

  constructor(private readonly options: TokenOptions) {
    this.ttlMs = options.ttlMs ?? DEFAULT_TOKEN_TTL_MS;
    this.now = options.now ?? Date.now;
  }

  async issue(subject: TokenSubject): Promise<{ token: string; expiresAt: string }> {
    const key = await this.publishedKey();
    const now = this.now();
    const expires = now + this.ttlMs;
    const token = await new SignJWT({ name: subject.username, ep: subject.epoch })
      .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT', kid: key.kid })
      .setSubject(subject.adminId)
      .setIssuer(ISSUER)
      .setAudience(this.options.clusterId)
      .setIssuedAt(Math.floor(now / 1000))
      .setExpirationTime(Math.floor(expires / 1000))
      .sign(key.privateKey);
    return { token, expiresAt: new Date(Math.floor(expires / 1000) * 1000).toISOString() };
  }

  /** The token's subject; throws a 401 ApiProblem for any token that is not good now. */
  async verify(token: string): Promise<VerifiedToken> {
    const known = this.verified.get(token);
    if (known) {
      if (known.expiresAt > this.now() && this.usable(known.kid)) return known;
      this.verified.delete(token);
    }
    const verified = await this.verifyAnew(token);
    if (this.verified.size >= VERIFIED_CACHE_SIZE) {
      this.verified.delete(this.verified.keys().next().value as string);
    }
    this.verified.set(token, verified);
    return verified;
  }

  /** This node's key, published (and renewed first if it was retired). */
  private publishedKey(): Promise<SigningKey> {
    const key = this.options.keys.current();
    const published = this.options.published(key.kid);
    if (isLive(published)) return Promise.resolve(key);
    this.publishing ??= (async () => {
      const fresh = published ? await this.options.keys.renew() : key;
      await this.options.publish(fresh);
      return fresh;
    })().finally(() => (this.publishing = undefined));
    return this.publishing;
  }

  private usable(kid: string): boolean {
    return isLive(this.options.published(kid));
  }

  private async verifyAnew(token: string): Promise<Remembered> {
    let kid: unknown;
    try {
      kid = decodeProtectedHeader(token).kid;
    } catch {
      throw unauthorized('INVALID_TOKEN', 'the token is not valid');
    }
    const published = typeof kid === 'string' ? await this.findKey(kid) : undefined;
    if (!isLive(published)) {
      throw unauthorized('INVALID_TOKEN', 'the token’s signing key is unknown or retired');
    }
    let payload;
    try {
      ({ payload } = await jwtVerify(token, await this.publicKey(published), {
        algorithms: [ALGORITHM],
        issuer: ISSUER,
        audience: this.options.clusterId,
        currentDate: new Date(this.now()),
        requiredClaims: ['sub', 'exp', 'iat'],
      }));
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) throw unauthorized('TOKEN_EXPIRED', 'the token has expired');
      throw unauthorized('INVALID_TOKEN', 'the token is not valid');
    }
    const issuedAt = payload.iat ?? 0;
    const expiresAt = payload.exp ?? 0;
    if (expiresAt - issuedAt > Math.ceil(this.ttlMs / 1000)) {
      throw unauthorized('INVALID_TOKEN', 'the token claims a longer life than tokens are given');
    }
    if (issuedAt > this.now() / 1000 + CLOCK_SKEW_SECONDS) {
      throw unauthorized('INVALID_TOKEN', 'the token claims to be issued in the future');
    }
    const epoch = payload.ep;
    if (typeof epoch !== 'number' || !Number.isSafeInteger(epoch)) {
      throw unauthorized('INVALID_TOKEN', 'the token is not valid');
    }
    return {
      adminId: String(payload.sub),
      username: typeof payload.name === 'string' ? payload.name : '',
      epoch,
      expiresAt: expiresAt * 1000,
      kid: published.kid,
    };
  }

  /** A published key, after catching up once if it is not known here yet. */
  private async findKey(kid: string): Promise<PublishedTokenKey | undefined> {
    const known = this.options.published(kid);
    if (known || !KID.test(kid) || !this.options.catchUp) return known;
    this.catchingUp ??= this.options.catchUp().finally(() => (this.catchingUp = undefined));
    await this.catchingUp;
    return this.options.published(kid);
  }

  private publicKey(published: PublishedTokenKey): ReturnType<typeof importJWK> {
    let key = this.imported.get(published.kid);
    if (!key) {
      key = importJWK({ ...published.jwk }, ALGORITHM);
      this.imported.set(published.kid, key);
    }
    return key;
  }
}

/** The token of an `Authorization: Bearer T` header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer ([A-Za-z0-9._~+/=-]+)$/i.exec(header?.trim() ?? '');
  return match?.[1];
}

export { unauthorized };
