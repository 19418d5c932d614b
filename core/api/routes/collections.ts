/**
 * The entity collections of core/model/entities.ts, each with list, get, create, patch and
 * delete. Writes answer X-Raft-Index; reads carry the applied index they saw. Revisions travel
 * as ETags, and If-Match turns a patch or delete into a compare-and-set.
 */
import type { FastifyReply } from 'fastify';
import type { CommandResult } from '../../model/apply.js';
import { collectionNames, type Collection } from '../../model/entities.js';
import { ModelError } from '../../model/errors.js';
import { getEntity, listEntities, type EntityRow } from '../../model/queries.js';
import { ApiProblem } from '../problem.js';
import { awaitReadPoint } from '../reads.js';
import { createBody, idParams, listQuerySchema, patchBody, readQuerySchema } from '../schemas.js';
import { API_PREFIX, type ApiServices, type ZodApp } from '../services.js';
import {
  createCommand,
  deleteCommand,
  idempotencyKey,
  ifMatchRevision,
  patchCommand,
  propose,
  type WriteResult,
} from '../writes.js';

/** One entity, or NOT_FOUND. */
export function entityOrNotFound(s: ApiServices, c: Collection, id: string): EntityRow {
  const row = getEntity(s.db(), c, id);
  if (!row) throw new ModelError('NOT_FOUND', `${c} ${id} does not exist`);
  return row;
}

/**
 * Deleting the only admin would lock everyone out. Checked here before proposing, so two
 * concurrent deletes of the last two admins could still both pass; a model rule would close that.
 */
function refuseLastAdmin(s: ApiServices, id: string): void {
  const db = s.db();
  const others = db.value('SELECT count(*) FROM admins WHERE id != ?', [id]);
  if (getEntity(db, 'admins', id) && Number(others) === 0) {
    throw new ApiProblem(409, 'LAST_ADMIN', 'the last admin cannot be deleted; create another admin first');
  }
}

function entityId(result: CommandResult): string {
  return 'id' in result ? result.id : '';
}

/** The headers every write answers with. */
export function writeHeaders(reply: FastifyReply, write: WriteResult): void {
  reply.header('x-raft-index', String(write.index));
  if (write.replayed) reply.header('idempotent-replayed', 'true');
}

function sendEntity(reply: FastifyReply, row: EntityRow | undefined, write: WriteResult, status = 200) {
  writeHeaders(reply, write);
  if (!row) return reply.code(204).send();
  if (typeof row.revision === 'number') reply.header('etag', `"${row.revision}"`);
  return reply.code(status).send(row);
}

export function collectionRoutes(app: ZodApp, s: ApiServices): void {
  for (const c of collectionNames) {
    const tags = [c];
    app.get(
      `/${c}`,
      { schema: { tags, summary: `List ${c}`, querystring: listQuerySchema } },
      async (request, reply) => {
        const { limit, offset, filter, sort, ...point } = request.query;
        const at = await awaitReadPoint(s.ctx.replica, point, s.readWaitMs);
        const page = listEntities(s.db(), c, { limit, offset, filter, sort });
        reply.header('x-raft-index', String(at));
        return { data: page.rows, meta: { total: page.total, limit: page.limit, offset: page.offset } };
      },
    );

    app.get(
      `/${c}/:id`,
      { schema: { tags, summary: `Get one of ${c}`, params: idParams, querystring: readQuerySchema } },
      async (request, reply) => {
        const at = await awaitReadPoint(s.ctx.replica, request.query, s.readWaitMs);
        const row = entityOrNotFound(s, c, request.params.id);
        reply.header('x-raft-index', String(at));
        if (typeof row.revision === 'number') reply.header('etag', `"${row.revision}"`);
        return row;
      },
    );

    app.post(
      `/${c}`,
      { schema: { tags, summary: `Create one of ${c}`, body: createBody(c) } },
      async (request, reply) => {
        const at = new Date().toISOString();
        const key = idempotencyKey(request.headers['idempotency-key']);
        const command = await createCommand(c, request.body, at);
        const write = await propose(s.ctx.replica, s.metrics, command, { idempotencyKey: key, at });
        // A replayed retry answers with the entity the first attempt created.
        const id = entityId(write.result);
        reply.header('location', `${API_PREFIX}/${c}/${encodeURIComponent(id)}`);
        return sendEntity(reply, getEntity(s.db(), c, id), write, 201);
      },
    );

    app.patch(
      `/${c}/:id`,
      { schema: { tags, summary: `Change fields of one of ${c}`, params: idParams, body: patchBody(c) } },
      async (request, reply) => {
        const at = new Date().toISOString();
        const key = idempotencyKey(request.headers['idempotency-key']);
        const ifRevision = ifMatchRevision(request.headers['if-match']);
        const command = await patchCommand(c, request.params.id, request.body, at, ifRevision);
        const write = await propose(s.ctx.replica, s.metrics, command, { idempotencyKey: key, at });
        return sendEntity(reply, getEntity(s.db(), c, request.params.id), write);
      },
    );

    app.delete(
      `/${c}/:id`,
      { schema: { tags, summary: `Delete one of ${c}`, params: idParams } },
      async (request, reply) => {
        const at = new Date().toISOString();
        const key = idempotencyKey(request.headers['idempotency-key']);
        const ifRevision = ifMatchRevision(request.headers['if-match']);
        if (c === 'admins') refuseLastAdmin(s, request.params.id);
        const command = deleteCommand(c, request.params.id, ifRevision);
        const write = await propose(s.ctx.replica, s.metrics, command, { idempotencyKey: key, at });
        writeHeaders(reply, write);
        return reply.code(204).send();
      },
    );
  }
}
