/** `POST /batch`: many operations in one Raft entry, applied all or nothing. */
import type { AppliedEntity, CommandResult } from '../../model/apply.js';
import { batchAnswer, batchBody } from '../../../contract/index.js';
import { WRITE_PROBLEMS } from '../openapi.js';
import { writeHeaders } from './collections.js';
import type { ApiDeps, ZodApp } from '../deps.js';
import { batchCommand, keyedWrite, propose } from '../writes.js';

/** A batch's results: each an entity operation's (an API batch holds nothing else). */
function entityResults(result: CommandResult): AppliedEntity[] {
  const results = result.op === 'batch' ? result.results : [result];
  return results.map((r) => {
    if (!('collection' in r)) throw new Error(`a ${r.op} write answered in an API batch`);
    return r;
  });
}

export function batchRoutes(app: ZodApp, s: ApiDeps): void {
  app.post(
    '/batch',
    {
      schema: {
        tags: ['batch'],
        operationId: 'applyBatch',
        summary: 'Apply several creates, patches and deletes atomically (one Raft entry)',
        body: batchBody,
        response: { 200: batchAnswer },
        problems: [404, 412, ...WRITE_PROBLEMS],
        requestHeaders: ['idempotency-key'],
        answerHeaders: ['x-raft-index'],
      },
    },
    async (request, reply) => {
      const at = new Date().toISOString();
      const command = await batchCommand(request.body.operations, at);
      const write = await propose(s.ctx.replica, s.metrics, command, keyedWrite(request, at));
      writeHeaders(reply, write);
      return { index: write.index, results: entityResults(write.result) };
    },
  );
}
