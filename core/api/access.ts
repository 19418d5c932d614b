/**
 * What an admin's role lets it do (contract `ADMIN_ROLES`). An `admin` may do everything. A
 * `readonly` admin may use routes whose access is `read` — by default every GET — and change its
 * own password (`own-account`), nothing else: no write, and no GET that hands out a secret others
 * could use (the backup), which say `access: 'full'`. The role is read from
 * the model on every request, so a change applies at once on every node.
 */
import type { FastifyRequest } from 'fastify';
import type { AdminRole } from '../../contract/index.js';
import { ApiProblem } from './problem.js';

export type Access = 'read' | 'full' | 'own-account';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route (default: `read` for GET and HEAD, `full` for the rest). */
    access?: Access;
  }
  interface FastifyRequest {
    /** The role of the admin the bearer token names (undefined on public and node-signed requests). */
    role?: AdminRole;
  }
}

export function routeAccess(
  method: string | readonly string[],
  config: { access?: Access } | undefined,
): Access {
  if (config?.access) return config.access;
  const methods = typeof method === 'string' ? [method] : method;
  return methods.every((m) => m === 'GET' || m === 'HEAD') ? 'read' : 'full';
}

function readOnly(username: string, what: string): ApiProblem {
  return new ApiProblem(
    403,
    'READ_ONLY',
    `admin ${username} is read-only: ${what} needs an admin with full rights`,
  );
}

/** Refuses a read-only admin a route its access does not allow (called once the token is verified). */
export function checkAccess(
  request: FastifyRequest,
  role: AdminRole,
  adminId: string,
  username: string,
): void {
  if (role === 'admin') return;
  const access = routeAccess(request.method, request.routeOptions.config);
  if (access === 'read') return;
  const what = `${request.method} ${request.routeOptions.url ?? request.url}`;
  if (access === 'own-account' && (request.params as { id?: unknown } | undefined)?.id === adminId) return;
  throw readOnly(username, what);
}

/**
 * What a read-only admin may change of its own account: its password. Called by the route once
 * the body is parsed (the access check above saw only the path).
 */
export function checkOwnAccountChange(request: FastifyRequest, fields: readonly string[]): void {
  if (request.role !== 'readonly') return;
  const others = fields.filter((field) => field !== 'password');
  if (others.length > 0) {
    throw readOnly(request.admin?.username ?? '?', `changing ${others.join(', ')}`);
  }
}
