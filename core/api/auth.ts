/**
 * Who may call what. Every API route needs an admin's bearer token unless its config says
 * `auth: 'public'` (health, login); `auth: 'admin-or-cluster'` also accepts a request signed with
 * the cluster secret (cluster-auth.ts), checked once the raw body has been read. Tokens of deleted
 * admins stop working at once: the admin must still exist on this node.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ModelDatabase } from '../model/database.js';
import { verifyPassword } from '../model/passwords.js';
import { CLUSTER_AUTH_SCHEME, verifyClusterRequest } from './cluster-auth.js';
import { ApiProblem } from './problem.js';
import { bearerToken, unauthorized, type TokenService, type VerifiedToken } from './token.js';

export type AuthMode = 'public' | 'admin' | 'admin-or-cluster';

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: AuthMode;
  }
  interface FastifyRequest {
    /** The admin a bearer token named (undefined on public routes and for cluster-signed requests). */
    admin?: VerifiedToken;
    /** The body as received, for routes that verify a signature over it. */
    rawBody?: string;
    /** A cluster signature to verify once the body is in (admin-or-cluster routes). */
    clusterSignature?: string;
  }
}

interface AdminRow {
  readonly id: string;
  readonly username: string;
  readonly passwordHash: string;
}

function findAdmin(db: ModelDatabase, username: string): AdminRow | undefined {
  const row = db.all('SELECT id, username, password_hash FROM admins WHERE username = ?', [username])[0];
  return row
    ? { id: String(row.id), username: String(row.username), passwordHash: String(row.password_hash) }
    : undefined;
}

function adminExists(db: ModelDatabase, id: string): boolean {
  return db.value('SELECT 1 FROM admins WHERE id = ?', [id]) !== undefined;
}

// Checked against unknown usernames too, so that a miss costs as long as a wrong password.
const DECOY_HASH = 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';

/** The admin for a username and password, or undefined. */
export async function checkLogin(
  db: () => ModelDatabase,
  username: string,
  password: string,
): Promise<AdminRow | undefined> {
  const admin = findAdmin(db(), username);
  const ok = await verifyPassword(password, admin?.passwordHash ?? DECOY_HASH);
  return ok && admin ? admin : undefined;
}

/** The onRequest hook of the API scope. */
export function authenticate(tokens: TokenService, db: () => ModelDatabase) {
  return async (request: FastifyRequest): Promise<void> => {
    const mode = request.routeOptions.config?.auth ?? 'admin';
    if (mode === 'public') return;
    const header = request.headers.authorization;
    if (mode === 'admin-or-cluster' && header?.startsWith(`${CLUSTER_AUTH_SCHEME} `)) {
      request.clusterSignature = header;
      return;
    }
    const token = bearerToken(header);
    if (!token) throw unauthorized('MISSING_TOKEN', 'this route needs an Authorization: Bearer token');
    const verified = await tokens.verify(token);
    if (!adminExists(db(), verified.adminId))
      throw unauthorized('INVALID_TOKEN', 'the token’s admin no longer exists');
    request.admin = verified;
  };
}

/** The preValidation hook of admin-or-cluster routes: a cluster signature must cover the raw body. */
export function verifyClusterSignature(secret: string) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    if (request.clusterSignature === undefined) return;
    const failure = verifyClusterRequest(secret, request.clusterSignature, request.rawBody ?? '');
    if (failure) {
      throw new ApiProblem(401, 'BAD_CLUSTER_SIGNATURE', `the cluster signature is not valid (${failure})`);
    }
  };
}
