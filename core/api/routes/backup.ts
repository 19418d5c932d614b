/**
 * `GET /backup`: a consistent copy of this node's model as a SQLite database file (what
 * `meshdesk backup --api` saves and `meshdesk restore` seeds a cluster from). Taken between two
 * applies, so it is exactly the state at the index in `X-Raft-Index`; accepts the read points of
 * every read (`consistency=linearizable` for a backup that includes every acknowledged write).
 */
import { awaitReadPoint } from '../reads.js';
import { backupFile, readQuerySchema } from '../../../contract/index.js';
import { READ_PROBLEMS } from '../openapi.js';
import type { ApiDeps, ZodApp } from '../deps.js';

export function backupRoutes(app: ZodApp, s: ApiDeps): void {
  app.get(
    '/backup',
    {
      schema: {
        tags: ['cluster'],
        operationId: 'getBackup',
        summary: 'Download a consistent backup of the model (SQLite database file)',
        querystring: readQuerySchema,
        response: {
          200: {
            description: 'The model as of X-Raft-Index',
            content: { 'application/vnd.sqlite3': { schema: backupFile } },
          },
        },
        problems: READ_PROBLEMS,
        answerHeaders: ['x-raft-index'],
      },
      // The backup holds every admin's password hash and the CA's intermediate key.
      config: { access: 'full' },
    },
    async (request, reply) => {
      await awaitReadPoint(s.ctx.replica, request.query, s.readWaitMs);
      // Read the index and export in the same turn: no apply can come between them.
      const index = s.ctx.replica.appliedIndex();
      const bytes = s.ctx.model.snapshot();
      return reply
        .header('x-raft-index', String(index))
        .header('content-disposition', `attachment; filename="meshdesk-${s.ctx.clusterId}-${index}.sqlite"`)
        .header('cache-control', 'no-store')
        .type('application/vnd.sqlite3')
        .send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    },
  );
}
