/**
 * `POST /auth/login`: a username and password for a bearer token; `POST /auth/logout` ends every
 * session of the admin (its auth epoch rises: every token it holds is refused on every node).
 * Failed attempts slow their account down (login-guard.ts): the right password keeps working,
 * after a wait. Until the node is ready (readiness.ts) every attempt is 503 STARTING, before the
 * password or the failure count is looked at.
 */
import { checkLogin } from '../auth.js';
import { ApiProblem } from '../problem.js';
import { startingProblem } from '../readiness.js';
import { loginAnswer, loginBody, signedOut } from '../../../contract/index.js';
import { WRITE_PROBLEMS } from '../openapi.js';
import { propose } from '../writes.js';
import type { ApiDeps, ZodApp } from '../deps.js';

export function loginRoutes(app: ZodApp, s: ApiDeps): void {
  app.post(
    '/auth/login',
    {
      schema: {
        tags: ['auth'],
        operationId: 'login',
        summary: 'Exchange an admin’s username and password for a bearer token',
        body: loginBody,
        response: { 200: loginAnswer },
        problems: [429, 503],
      },
      config: { auth: 'public' },
    },
    async (request) => {
      if (s.readiness.state !== 'up') throw startingProblem();
      const { username, password } = request.body;
      const admin = await s.loginGuard.attempt(username, () => checkLogin(s.db, username, password));
      if (!admin) throw new ApiProblem(401, 'BAD_CREDENTIALS', 'wrong username or password');
      const issued = await s.tokens.issue({
        adminId: admin.id,
        username: admin.username,
        epoch: admin.epoch,
      });
      return { ...issued, role: admin.role };
    },
  );

  app.post(
    '/auth/logout',
    {
      schema: {
        tags: ['auth'],
        operationId: 'logout',
        summary: 'Sign out everywhere: end every session of this admin, on every node',
        response: { 204: signedOut },
        problems: WRITE_PROBLEMS,
        answerHeaders: ['x-raft-index'],
      },
      // Every admin may end its own sessions, a read-only one too.
      config: { access: 'read' },
    },
    async (request, reply) => {
      const at = new Date().toISOString();
      const adminId = request.admin?.adminId ?? '';
      const write = await propose(s.ctx.replica, s.metrics, { op: 'endSessions', id: adminId, at }, { at });
      reply.header('x-raft-index', String(write.index));
      return reply.code(204).send(null);
    },
  );
}
