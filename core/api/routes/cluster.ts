/**
 * `/cluster`: status and membership operations, through ClusterOps (core/cluster/), which runs
 * them on the leader, and the cluster CA. A node that has just spent a join token for its
 * certificate (routes/invitations.ts) adds itself with a request signed by its own key
 * (core/cluster/node-signature.ts) instead of an admin token; the signature covers the raw body,
 * so that route's scope keeps it.
 */
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { verifyNodeSignature } from '../auth.js';
import { ApiProblem } from '../problem.js';
import { requireClusterCa } from '../../cluster/cluster-ca.js';
import { fingerprint } from '../../pki/ca.js';
import {
  addMemberBody,
  clusterCa,
  clusterView,
  leadershipTransferred,
  memberAdded,
  memberParams,
  memberRemoved,
  snapshotTaken,
  tokenKeysRotated,
  caRotated,
  caRotationFinished,
  rotateCaBody,
  transferBody,
} from '../../../contract/index.js';
import { retireCommands } from '../token-keys.js';
import { propose } from '../writes.js';
import { WRITE_PROBLEMS } from '../openapi.js';
import type { ApiDeps, ZodApp } from '../deps.js';

export function clusterRoutes(app: ZodApp, s: ApiDeps): void {
  const tags = ['cluster'];
  const schema = {
    tags,
    operationId: 'getCluster',
    summary: 'Cluster status and members',
    response: { 200: clusterView },
  };
  app.get('/cluster', { schema }, async () => {
    const view = s.ctx.cluster.view();
    return {
      clusterId: view.clusterId,
      nodeId: view.nodeId,
      leaderId: view.leaderId,
      role: view.role,
      term: view.term,
      commitIndex: view.commitIndex,
      appliedIndex: view.appliedIndex,
      members: view.members,
    };
  });

  app.get(
    '/cluster/ca',
    {
      schema: {
        tags,
        operationId: 'getClusterCa',
        summary: 'The cluster root CA certificate and its SHA-256 fingerprint (no auth: it is public)',
        response: { 200: clusterCa },
        problems: [503],
      },
      config: { auth: 'public' },
    },
    async () => {
      const certificate = requireClusterCa(s.db()).rootCertPem;
      return { certificate, fingerprint: fingerprint(certificate) };
    },
  );

  app.register(async (instance) => {
    const scope: ZodApp = instance.withTypeProvider<ZodTypeProvider>();
    scope.removeContentTypeParser('application/json');
    scope.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
      request.rawBody = body as string;
      try {
        done(null, body === '' ? undefined : JSON.parse(body as string));
      } catch {
        done(new ApiProblem(400, 'MALFORMED_REQUEST', 'the body is not valid JSON'), undefined);
      }
    });
    scope.post(
      '/cluster/members',
      {
        schema: {
          tags,
          operationId: 'addMember',
          summary: 'Add a member (as a learner, promoted once caught up)',
          body: addMemberBody,
          response: { 201: memberAdded },
          problems: [403, ...WRITE_PROBLEMS],
          answerHeaders: ['x-raft-index'],
        },
        config: { auth: 'admin-or-node' },
        preValidation: verifyNodeSignature(s.ctx.clusterId, s.db),
      },
      async (request, reply) => {
        // A node may add only itself, by the id its certificate names; admins add anyone.
        if (request.node && request.body.id !== request.node.nodeId) {
          throw new ApiProblem(
            403,
            'FORBIDDEN',
            `a node adds only itself: the certificate names ${request.node.nodeId}, not ${request.body.id ?? 'no id'}`,
          );
        }
        const added = await s.ctx.cluster.addMember(request.body);
        reply.header('x-raft-index', String(added.index));
        return reply.code(201).send(added);
      },
    );
  });

  app.delete(
    '/cluster/members/:id',
    {
      schema: {
        tags,
        operationId: 'removeMember',
        summary: 'Remove a member',
        params: memberParams,
        response: { 200: memberRemoved },
        problems: [404, ...WRITE_PROBLEMS],
        answerHeaders: ['x-raft-index'],
      },
    },
    async (request, reply) => {
      const removed = await s.ctx.cluster.removeMember(request.params.id);
      reply.header('x-raft-index', String(removed.index));
      return removed;
    },
  );

  app.post(
    '/cluster/transfer-leadership',
    {
      schema: {
        tags,
        operationId: 'transferLeadership',
        summary: 'Hand leadership to a member (or the most caught-up voter)',
        body: transferBody,
        response: { 200: leadershipTransferred },
        problems: [404, 409, 503, 504],
      },
    },
    async (request) => s.ctx.cluster.transferLeadership(request.body?.to),
  );

  app.post(
    '/cluster/snapshot',
    {
      schema: {
        tags,
        operationId: 'takeSnapshot',
        summary: 'Take a snapshot now and compact the log',
        response: { 200: snapshotTaken },
        problems: [503, 504],
        answerHeaders: ['x-raft-index'],
      },
    },
    async (_request, reply) => {
      const taken = await s.ctx.cluster.snapshot();
      reply.header('x-raft-index', String(taken.index));
      return taken;
    },
  );

  app.post(
    '/cluster/ca/rotate',
    {
      schema: {
        tags,
        operationId: 'rotateClusterCa',
        summary:
          'Sign a new intermediate CA with the root key (on the node that bootstrapped the cluster), under a new root with newRoot: every member and router re-issues its certificate from it',
        body: rotateCaBody,
        response: { 200: caRotated },
        problems: WRITE_PROBLEMS,
        answerHeaders: ['x-raft-index'],
      },
    },
    async (request, reply) => {
      const now = new Date();
      const rotation = await s.ctx.certificates.rotateIntermediate(now, request.body?.newRoot === true);
      const written = await propose(
        s.ctx.replica,
        s.metrics,
        { op: 'batch', commands: rotation.commands },
        { at: now.toISOString() },
      );
      const { fingerprint, notAfter, root } = rotation;
      s.ctx.logger.warn({ fingerprint, root }, 'rotated the cluster’s intermediate CA');
      reply.header('x-raft-index', String(written.index));
      return { fingerprint, notAfter, ...(root ? { root } : {}), index: written.index };
    },
  );

  app.post(
    '/cluster/ca/finish-rotation',
    {
      schema: {
        tags,
        operationId: 'finishClusterCaRotation',
        summary:
          'Retire the intermediate CAs a rotation replaced, once every member and router holds a certificate of the new one: their certificates open nothing from then on',
        response: { 200: caRotationFinished },
        problems: WRITE_PROBLEMS,
        answerHeaders: ['x-raft-index'],
      },
    },
    async (_request, reply) => {
      const now = new Date();
      const command = s.ctx.certificates.finishRotation(now);
      const written = await propose(s.ctx.replica, s.metrics, command, { at: now.toISOString() });
      const result = written.result.op === 'finishCaRotation' ? written.result : { retired: [] };
      const retired = [...result.retired];
      const root = 'root' in result ? result.root : undefined;
      if (retired.length > 0) {
        s.ctx.logger.warn({ retired, root }, 'retired the cluster’s earlier intermediate CAs');
      }
      reply.header('x-raft-index', String(written.index));
      return { retired, ...(root ? { root } : {}), index: written.index };
    },
  );

  app.post(
    '/cluster/token-keys/rotate',
    {
      schema: {
        tags,
        operationId: 'rotateTokenKeys',
        summary: 'Retire every token signing key: all tokens issued so far are refused on every node',
        response: { 200: tokenKeysRotated },
        problems: WRITE_PROBLEMS,
      },
    },
    async () => {
      const at = new Date().toISOString();
      const { kids, commands } = retireCommands(s.db(), at);
      if (commands.length === 0) return { retired: [], index: s.ctx.replica.status().applied };
      const written = await propose(s.ctx.replica, s.metrics, { op: 'batch', commands }, { at });
      return { retired: kids, index: written.index };
    },
  );
}
