/**
 * Who may call what. Every API route needs an admin's bearer token unless its config says
 * `auth: 'public'` (health, login, the join that spends a join token); `auth: 'admin-or-node'` also
 * accepts a request signed by a controller's own key and certificate (core/cluster/node-signature.ts),
 * checked once the raw body has been read. What an admin's role allows is access.ts's. A token is
 * only as good as its admin: it stops working on every node once the admin is deleted, changes
 * its password or signs out (the admin's auth epoch, which the token carries, has moved on).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ModelDatabase } from '../model/database.js';
import { verifyPassword } from '../model/passwords.js';
import { requireClusterCa } from '../cluster/cluster-ca.js';
import { chainAbove } from '../model/pki.js';
import { chainPem } from '../pki/ca.js';
import {
  NODE_AUTH_SCHEME,
  NODE_CERTIFICATE_HEADER,
  verifyNodeRequest,
  type CertifiedNode,
} from '../cluster/node-signature.js';
import type { AdminRole } from '../../contract/index.js';
import { checkAccess } from './access.js';
import { ApiProblem } from './problem.js';
import { controllerRetired } from '../model/retired-controllers.js';
import { bearerToken, unauthorized, type TokenService, type VerifiedToken } from './token.js';

export type AuthMode = 'public' | 'admin' | 'admin-or-node';

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: AuthMode;
  }
  interface FastifyRequest {
    /** The admin a bearer token named (undefined on public routes and for node-signed requests). */
    admin?: VerifiedToken;
    /** The controller that signed the request (admin-or-node routes), once its signature verified. */
    node?: CertifiedNode;
    /** The body as received, for routes that verify a signature over it. */
    rawBody?: string;
    /** A node signature to verify once the body is in (admin-or-node routes). */
    nodeSignature?: string;
  }
}

interface AdminRow {
  readonly id: string;
  readonly username: string;
  readonly passwordHash: string;
  readonly epoch: number;
  readonly role: AdminRole;
}

const roleOf = (value: unknown): AdminRole => (value === 'admin' ? 'admin' : 'readonly');

function findAdmin(db: ModelDatabase, username: string): AdminRow | undefined {
  const row = db.all('SELECT id, username, password_hash, auth_epoch, role FROM admins WHERE username = ?', [
    username,
  ])[0];
  return row
    ? {
        id: String(row.id),
        username: String(row.username),
        passwordHash: String(row.password_hash),
        epoch: Number(row.auth_epoch),
        role: roleOf(row.role),
      }
    : undefined;
}

/**
 * The role of the admin a verified token speaks for, or why it no longer does (the admin is
 * deleted, or its sessions ended since the token was issued).
 */
export function adminSession(db: ModelDatabase, token: VerifiedToken): { role: AdminRole } | ApiProblem {
  const [row] = db.rows('SELECT auth_epoch, role FROM admins WHERE id = ?', [token.adminId]);
  if (!row) return unauthorized('INVALID_TOKEN', 'the token’s admin no longer exists');
  if (Number(row[0]) !== token.epoch) {
    return unauthorized('SESSION_ENDED', 'the token’s session has ended (password changed or signed out)');
  }
  return { role: roleOf(row[1]) };
}

/** Why a verified token no longer speaks for its admin, or undefined while it still does. */
export function sessionEnded(db: ModelDatabase, token: VerifiedToken): ApiProblem | undefined {
  const session = adminSession(db, token);
  return session instanceof ApiProblem ? session : undefined;
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
    if (mode === 'admin-or-node' && header?.startsWith(`${NODE_AUTH_SCHEME} `)) {
      request.nodeSignature = header;
      return;
    }
    const token = bearerToken(header);
    if (!token) throw unauthorized('MISSING_TOKEN', 'this route needs an Authorization: Bearer token');
    const verified = await tokens.verify(token);
    const session = adminSession(db(), verified);
    if (session instanceof ApiProblem) throw session;
    request.admin = verified;
    request.role = session.role;
    checkAccess(request, session.role, verified.adminId, verified.username);
  };
}

/**
 * The preValidation hook of admin-or-node routes: a node signature must cover the raw body and come
 * with a controller certificate of this cluster; the route then sees `request.node`.
 */
export function verifyNodeSignature(clusterId: string, db: () => ModelDatabase) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    if (request.nodeSignature === undefined) return;
    const certificate = request.headers[NODE_CERTIFICATE_HEADER];
    const ca = requireClusterCa(db());
    const verified = verifyNodeRequest(
      {
        authorization: request.nodeSignature,
        certificate: typeof certificate === 'string' ? certificate : '',
      },
      { method: request.method, path: request.url, body: request.rawBody ?? '' },
      { clusterId, intermediatePem: chainPem(...chainAbove(ca)), rootPem: ca.rootCertPem },
    );
    if (typeof verified === 'string') {
      throw new ApiProblem(401, 'BAD_NODE_SIGNATURE', `the node signature is not valid (${verified})`);
    }
    // A node removed from the cluster asks nothing as itself: its certificates are revoked.
    if (controllerRetired(db(), verified.nodeId)) {
      throw new ApiProblem(
        403,
        'REVOKED_CERTIFICATE',
        `node ${verified.nodeId} was removed from the cluster: its certificates are revoked`,
      );
    }
    request.node = verified;
  };
}
