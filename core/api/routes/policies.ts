/** Policy questions answered from the policy index: what an identity may use, and why (not). */
import type { ModelDatabase } from '../../model/database.js';
import { PolicyIndex, type ServicePolicyType } from '../../model/policy/index.js';
import { getEntity } from '../../model/queries.js';
import { awaitReadPoint } from '../reads.js';
import {
  identityServices,
  identityServicesQuery,
  idParams,
  policyCheck,
  policyCheckQuery,
} from '../../../contract/index.js';
import type { ApiDeps, ZodApp } from '../deps.js';
import { READ_PROBLEMS } from '../openapi.js';
import { entityOrNotFound } from './collections.js';

// One index per database, for its read cache of the policy side; a restored database gets a new one.
const indexes = new WeakMap<ModelDatabase, PolicyIndex>();

function policyIndex(db: ModelDatabase): PolicyIndex {
  let index = indexes.get(db);
  if (!index) {
    index = new PolicyIndex(db);
    indexes.set(db, index);
  }
  return index;
}

function policyType(type: string): ServicePolicyType {
  return type.toLowerCase() === 'bind' ? 'Bind' : 'Dial';
}

export function policyRoutes(app: ZodApp, s: ApiDeps): void {
  app.get(
    '/identities/:id/services',
    {
      schema: {
        tags: ['identities', 'policies'],
        operationId: 'listIdentityServices',
        summary: 'The services an identity may dial (or bind)',
        params: idParams,
        querystring: identityServicesQuery,
        response: { 200: identityServices },
        problems: [404, ...READ_PROBLEMS],
        answerHeaders: ['x-raft-index'],
      },
    },
    async (request, reply) => {
      const at = await awaitReadPoint(s.ctx.replica, request.query, s.readWaitMs);
      entityOrNotFound(s, 'identities', request.params.id);
      const db = s.db();
      const ids = policyIndex(db).servicesForIdentity(request.params.id, policyType(request.query.type));
      const data = ids.flatMap((id) => {
        const row = getEntity(db, 'services', id);
        return row ? [row] : [];
      });
      reply.header('x-raft-index', String(at));
      return { data, meta: { total: data.length } };
    },
  );

  app.get(
    '/policy-check',
    {
      schema: {
        tags: ['policies'],
        operationId: 'checkPolicy',
        summary: 'Whether an identity may dial (or bind) a service, and through which policies',
        querystring: policyCheckQuery,
        response: { 200: policyCheck },
        problems: [404, ...READ_PROBLEMS],
        answerHeaders: ['x-raft-index'],
      },
    },
    async (request, reply) => {
      const at = await awaitReadPoint(s.ctx.replica, request.query, s.readWaitMs);
      entityOrNotFound(s, 'identities', request.query.identity);
      entityOrNotFound(s, 'services', request.query.service);
      const check = policyIndex(s.db()).policyCheck(
        request.query.identity,
        request.query.service,
        policyType(request.query.type),
      );
      reply.header('x-raft-index', String(at));
      return check;
    },
  );
}
