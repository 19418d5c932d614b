/**
 * `/cluster`: status and membership operations, through ClusterOps (core/cluster/), which runs
 * them on the leader. A joining node adds itself with a request signed with the cluster secret
 * (cluster-auth.ts) instead of an admin token; the signature covers the raw body, so this scope
 * keeps it.
 */
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { verifyClusterSignature } from '../auth.js';
import { ApiProblem } from '../problem.js';
import { addMemberBody, clusterView, memberParams, transferBody } from '../../../contract/index.js';
import type { ApiDeps, ZodApp } from '../deps.js';

export function clusterRoutes(app: ZodApp, s: ApiDeps): void {
  const tags = ['cluster'];
  const schema = { tags, summary: 'Cluster status and members', response: { 200: clusterView } };
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
          summary: 'Add a member (as a learner, promoted once caught up)',
          body: addMemberBody,
        },
        config: { auth: 'admin-or-cluster' },
        preValidation: verifyClusterSignature(s.ctx.clusterSecret),
      },
      async (request, reply) => {
        const added = await s.ctx.cluster.addMember(request.body);
        reply.header('x-raft-index', String(added.index));
        return reply.code(201).send(added);
      },
    );
  });

  app.delete(
    '/cluster/members/:id',
    { schema: { tags, summary: 'Remove a member', params: memberParams } },
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
        summary: 'Hand leadership to a member (or the most caught-up voter)',
        body: transferBody,
      },
    },
    async (request) => s.ctx.cluster.transferLeadership(request.body?.to),
  );

  app.post(
    '/cluster/snapshot',
    { schema: { tags, summary: 'Take a snapshot now and compact the log' } },
    async (_request, reply) => {
      const taken = await s.ctx.cluster.snapshot();
      reply.header('x-raft-index', String(taken.index));
      return taken;
    },
  );
}
