/**
 * The entity collections of core/model/entities.ts, each with list, get, create, patch and
 * delete. Writes answer X-Raft-Index; reads carry the applied index they saw. Revisions travel
 * as ETags, and If-Match turns a patch or delete into a compare-and-set.
 */
import type { FastifyReply } from 'fastify';
import { collectionNames, type Collection } from '../../model/entities.js';
import { ModelError } from '../../model/errors.js';
import { getEntity, listEntities, type EntityRow } from '../../model/queries.js';
import { checkOwnAccountChange } from '../access.js';
import { ApiProblem } from '../problem.js';
import { awaitReadPoint } from '../reads.js';
import {
  createSchema,
  entityDeleted,
  entityList,
  entityNames,
  entitySchema,
  idParams,
  listQuerySchema,
  patchSchema,
  readQuerySchema,
  writtenEntity as writtenEntitySchema,
} from '../../../contract/index.js';
import { API_PREFIX, type ApiDeps, type ZodApp } from '../deps.js';
import { READ_PROBLEMS, WRITE_PROBLEMS } from '../openapi.js';
import {
  createCommand,
  deleteCommand,
  ifMatchRevision,
  keyedWrite,
  patchCommand,
  propose,
  type WriteResult,
} from '../writes.js';

/** One entity, or NOT_FOUND. */
export function entityOrNotFound(s: ApiDeps, c: Collection, id: string): EntityRow {
  const row = getEntity(s.db(), c, id);
  if (!row) throw new ModelError('NOT_FOUND', `${c} ${id} does not exist`);
  return row;
}

/**
 * Deleting the only admin would lock everyone out. Checked here before proposing, so two
 * concurrent deletes of the last two admins could still both pass; a model rule would close that.
 */
/** The model refuses it too (apply.ts); this answers before anything is proposed. */
function refuseLastAdmin(s: ApiDeps, id: string): void {
  const db = s.db();
  const fullRights = db.exists("SELECT 1 FROM admins WHERE id = ? AND role = 'admin'", [id]);
  const others = db.exists("SELECT 1 FROM admins WHERE id != ? AND role = 'admin' LIMIT 1", [id]);
  if (fullRights && !others) {
    throw new ApiProblem(
      409,
      'LAST_ADMIN',
      'the last admin with full rights cannot be deleted; give another admin full rights first',
    );
  }
}

/** The entity as the write's own command left it (computed inside its apply), never re-read. */
function writtenEntity(write: WriteResult): EntityRow {
  const result = write.result;
  if (result.op === 'batch' || !('collection' in result)) {
    throw new Error(`a ${result.op} write answered where an entity write was expected`);
  }
  // A replayed result stored before results carried their entity names only id and revision.
  return result.entity ?? { id: result.id, revision: result.revision };
}

/** The headers every write answers with. */
export function writeHeaders(reply: FastifyReply, write: WriteResult): void {
  reply.header('x-raft-index', String(write.index));
  if (write.replayed) reply.header('idempotent-replayed', 'true');
}

/** A written entity, with its revision as the ETag. */
function sendEntity(reply: FastifyReply, write: WriteResult, status: number) {
  const entity = writtenEntity(write);
  writeHeaders(reply, write);
  if (typeof entity.revision === 'number') reply.header('etag', `"${entity.revision}"`);
  return reply.code(status).send(entity);
}

export function collectionRoutes(app: ZodApp, s: ApiDeps): void {
  for (const c of collectionNames) {
    const tags = [c];
    const singular = entityNames[c];
    const plural = c.replace(/(^|-)([a-z])/g, (_m, _dash: string, letter: string) => letter.toUpperCase());
    app.get(
      `/${c}`,
      {
        schema: {
          tags,
          operationId: `list${plural}`,
          summary: `List ${c}`,
          querystring: listQuerySchema,
          response: { 200: entityList(c) },
          problems: READ_PROBLEMS,
          answerHeaders: ['x-raft-index'],
        },
      },
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
      {
        schema: {
          tags,
          operationId: `get${singular}`,
          summary: `Get one of ${c}`,
          params: idParams,
          querystring: readQuerySchema,
          response: { 200: entitySchema(c) },
          problems: [404, ...READ_PROBLEMS],
          answerHeaders: ['x-raft-index', 'etag'],
        },
      },
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
      {
        schema: {
          tags,
          operationId: `create${singular}`,
          summary: `Create one of ${c}`,
          body: createSchema(c),
          response: { 201: writtenEntitySchema(c) },
          problems: WRITE_PROBLEMS,
          requestHeaders: ['idempotency-key'],
          answerHeaders: ['x-raft-index', 'etag'],
        },
      },
      async (request, reply) => {
        const at = new Date().toISOString();
        const command = await createCommand(c, request.body, at);
        const write = await propose(s.ctx.replica, s.metrics, command, keyedWrite(request, at));
        // A replayed retry answers with the entity as the first attempt created it.
        const entity = writtenEntity(write);
        reply.header('location', `${API_PREFIX}/${c}/${encodeURIComponent(String(entity.id))}`);
        return sendEntity(reply, write, 201);
      },
    );

    app.patch(
      `/${c}/:id`,
      {
        schema: {
          tags,
          operationId: `patch${singular}`,
          summary: `Change fields of one of ${c}`,
          params: idParams,
          body: patchSchema(c),
          response: { 200: writtenEntitySchema(c) },
          problems: [404, 412, ...WRITE_PROBLEMS],
          requestHeaders: ['idempotency-key', 'if-match'],
          answerHeaders: ['x-raft-index', 'etag'],
        },
        // A read-only admin may change its own password (access.ts), nothing else of anyone.
        config: { access: c === 'admins' ? 'own-account' : 'full' },
      },
      async (request, reply) => {
        checkOwnAccountChange(request, Object.keys(request.body));
        const at = new Date().toISOString();
        const ifRevision = ifMatchRevision(request.headers['if-match']);
        const command = await patchCommand(c, request.params.id, request.body, at, ifRevision);
        const write = await propose(s.ctx.replica, s.metrics, command, keyedWrite(request, at));
        return sendEntity(reply, write, 200);
      },
    );

    app.delete(
      `/${c}/:id`,
      {
        schema: {
          tags,
          operationId: `delete${singular}`,
          summary: `Delete one of ${c}`,
          params: idParams,
          response: { 204: entityDeleted },
          problems: [404, 412, ...WRITE_PROBLEMS],
          requestHeaders: ['idempotency-key', 'if-match'],
          answerHeaders: ['x-raft-index'],
        },
      },
      async (request, reply) => {
        const at = new Date().toISOString();
        const ifRevision = ifMatchRevision(request.headers['if-match']);
        if (c === 'admins') refuseLastAdmin(s, request.params.id);
        const command = deleteCommand(c, request.params.id, ifRevision);
        const write = await propose(s.ctx.replica, s.metrics, command, keyedWrite(request, at));
        writeHeaders(reply, write);
        return reply.code(204).send(null);
      },
    );
  }
}
