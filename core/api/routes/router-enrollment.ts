/**
 * Router enrollment: an admin mints a one-time token for one router (`POST
 * /routers/:id/enrollment`), and the router spends it for a certificate of its own (`POST
 * /routers/enroll`, no bearer token: the token is the credential). The token is a join token of
 * kind `router` (core/cluster/join-token.ts) whose invitation names the router; only the
 * secret's hash is proposed, the token is answered once (`no-store`) and never logged. The
 * certificate names the invitation's router (`spiffe://<cluster>/router/<id>`), whatever the CSR
 * asks, and is handed out only once the token's use has committed.
 */
import { issueRouterCertificate, requireClusterCa } from '../../cluster/cluster-ca.js';
import { listInvitations, view as invitationView } from '../../model/invitations.js';
import { routerCertificates } from '../../model/router-certificates.js';
import { getEntity } from '../../model/queries.js';
import { enrolledCertificate, fingerprint } from '../../pki/ca.js';
import { ApiProblem } from '../problem.js';
import {
  createdInvitation,
  createInvitationBody,
  idParams,
  routerEnrollBody,
  routerEnrollment,
  routerEnrollmentState,
} from '../../../contract/index.js';
import type { ApiDeps, ZodApp } from '../deps.js';
import { checkedToken, mintInvitation, sendMinted, spendInvitation } from './invitations.js';

export function routerEnrollmentRoutes(app: ZodApp, s: ApiDeps): void {
  const tags = ['routers'];

  app.post(
    '/routers/:id/enrollment',
    {
      schema: {
        tags,
        operationId: 'createRouterEnrollment',
        summary: 'Mint a one-time enrollment token for this router (shown once)',
        params: idParams,
        body: createInvitationBody,
        response: { 201: createdInvitation },
        problems: [404, 409, 503, 504],
        answerHeaders: ['x-raft-index'],
      },
    },
    async (request, reply) => {
      const minted = await mintInvitation(s, request, request.body.expiresInMinutes, {
        kind: 'router',
        subject: request.params.id,
      });
      return sendMinted(reply, minted);
    },
  );

  app.get(
    '/routers/:id/enrollment',
    {
      schema: {
        tags,
        operationId: 'getRouterEnrollment',
        summary: 'Whether the router holds a good certificate, and its enrollment tokens not used yet',
        params: idParams,
        response: { 200: routerEnrollmentState },
        problems: [404],
      },
    },
    async (request) => {
      const db = s.db();
      const routerId = request.params.id;
      if (!getEntity(db, 'routers', routerId)) {
        throw new ApiProblem(404, 'NOT_FOUND', `router ${routerId} does not exist`);
      }
      const [certificate] = routerCertificates(db, routerId);
      const now = new Date().toISOString();
      const pendingTokens = listInvitations(db, now).filter(
        (i) => i.subject === routerId && i.state === 'pending',
      ).length;
      return {
        routerId,
        enrolled: certificate !== undefined,
        certificate: certificate ?? null,
        pendingTokens,
      };
    },
  );

  app.post(
    '/routers/enroll',
    {
      schema: {
        tags,
        operationId: 'enrollRouter',
        summary:
          'Spend a router’s enrollment token for its certificate (no bearer token: the enrollment token is the credential, good once)',
        body: routerEnrollBody,
        response: { 201: routerEnrollment },
        problems: [403, 404, 409, 410, 503, 504],
        answerHeaders: ['x-raft-index'],
      },
      config: { auth: 'public' },
    },
    async (request, reply) => {
      const ca = requireClusterCa(s.db());
      const invitation = checkedToken(request.body.token, s.ctx.clusterId, ca.intermediateCertPem, 'router');
      // The router is the one the model's invitation names (the token's copy is only a hint).
      const routerId = invitationView(s.db(), invitation.id, new Date().toISOString())?.subject;
      if (!routerId) {
        throw new ApiProblem(403, 'INVITATION_UNKNOWN', 'the invitation is not one of this cluster’s');
      }
      // Made before the token is spent, so that a bad CSR does not spend it.
      const issued = await issueRouterCertificate(s.db(), s.ctx.clusterId, routerId, request.body.csr);
      // Recorded with the token's use: the router's only good certificate from now on.
      const write = await spendInvitation(s, invitation, routerId, enrolledCertificate(issued.certificate));
      const router = getEntity(s.db(), 'routers', routerId);
      const controllers = s.ctx.cluster.view().members.map((m) => `https://${m.address}`);
      reply.header('x-raft-index', String(write.index)).header('cache-control', 'no-store');
      return reply.code(201).send({
        ...issued,
        fingerprint: fingerprint(issued.ca),
        clusterId: s.ctx.clusterId,
        router: { id: routerId, name: String(router?.name ?? routerId) },
        controllers,
      });
    },
  );
}
