/** `POST /batch`: many operations in one Raft entry, applied all or nothing. */
import { batchBody } from '../../../contract/index.js';
import { writeHeaders } from './collections.js';
import type { ApiDeps, ZodApp } from '../deps.js';
import { batchCommand, idempotencyKey, propose } from '../writes.js';

export function batchRoutes(app: ZodApp, s: ApiDeps): void {
  app.post(
    '/batch',
    {
      schema: {
        tags: ['batch'],
        summary: 'Apply several creates, patches and deletes atomically (one Raft entry)',
        body: batchBody,
      },
    },
    async (request, reply) => {
      const at = new Date().toISOString();
      const key = idempotencyKey(request.headers['idempotency-key']);
      const command = await batchCommand(request.body.operations, at);
      const write = await propose(s.ctx.replica, s.metrics, command, { idempotencyKey: key, at });
      const results = write.result.op === 'batch' ? write.result.results : [write.result];
      writeHeaders(reply, write);
      return { index: write.index, results };
    },
  );
}
