/** Health and the OpenAPI document (no auth), Prometheus metrics and the event backlog. */
import type { z } from 'zod';
import { STARTING_RETRY_AFTER_SECONDS } from '../readiness.js';
import { eventPage, eventsQuery, health, metricsText, openApiDocument } from '../../../contract/index.js';
import type { ApiDeps, ZodApp } from '../deps.js';

export function systemRoutes(app: ZodApp, s: ApiDeps): void {
  app.get(
    '/health',
    {
      schema: {
        tags: ['system'],
        operationId: 'getHealth',
        summary:
          'Role, leader, term and indexes of this node (no auth): status up (200), or starting (503, Retry-After) until bootstrap has finished here',
        response: { 200: health, 503: health },
      },
      config: { auth: 'public' },
    },
    async (_request, reply) => {
      const readiness = s.readiness.state;
      if (readiness === 'starting') {
        reply.code(503).header('retry-after', String(STARTING_RETRY_AFTER_SECONDS));
      }
      const status = s.ctx.replica.status();
      return {
        status: readiness,
        nodeId: s.ctx.nodeId,
        name: s.ctx.name,
        clusterId: s.ctx.clusterId,
        role: status.role,
        leaderId: status.leader,
        term: status.term,
        commitIndex: status.commit,
        appliedIndex: s.ctx.replica.appliedIndex(),
        lastIndex: status.lastIndex,
      };
    },
  );

  app.get(
    '/metrics',
    {
      schema: {
        tags: ['system'],
        operationId: 'getMetrics',
        summary: 'Prometheus metrics',
        response: {
          200: { description: 'Prometheus metrics', content: { 'text/plain': { schema: metricsText } } },
        },
      },
    },
    async (_request, reply) => {
      const text = await s.metrics.registry.metrics();
      return reply.type(s.metrics.registry.contentType).send(text);
    },
  );

  app.get(
    '/openapi.json',
    {
      schema: {
        tags: ['system'],
        operationId: 'getOpenApiDocument',
        summary: 'This document (no auth, so that tools can fetch it)',
        response: { 200: openApiDocument },
      },
      config: { auth: 'public' },
    },
    async () => app.swagger() as unknown as z.infer<typeof openApiDocument>,
  );

  app.get(
    '/events',
    {
      schema: {
        tags: ['events'],
        operationId: 'listEvents',
        summary: 'Recent entity and cluster events after a Raft index (live: socket.io namespace /events)',
        querystring: eventsQuery,
        response: { 200: eventPage },
      },
    },
    async (request) => {
      const page = s.events.since(request.query.since ?? 0, request.query.limit);
      return { data: page.data, meta: { truncated: page.truncated, latestIndex: page.latestIndex } };
    },
  );
}
