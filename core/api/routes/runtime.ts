/**
 * Runtime data over REST: this node's link table, the circuits it owns, circuits by hand (the
 * ingress router is asked to dial, so the circuit is created by that router's most responsive
 * controller), the router channel's status, and a delay fault that exists only where fault
 * injection is on (tests and `meshdesk lab`). Refusals are RuntimeErrors: problem.ts's table gives
 * their statuses.
 */
import {
  circuit,
  circuitDeleted,
  circuitList,
  circuitParams,
  circuitsQuery,
  createCircuitBody,
  createdCircuit,
  linkList,
  runtimeFaults,
  runtimeFaultsBody,
  runtimeStatus,
} from '../../../contract/index.js';
import { RUNTIME_PROBLEMS } from '../problem.js';
import { RuntimeError } from '../../runtime/errors.js';
import type { CircuitDirectory } from '../../runtime/circuit-directory.js';
import type { ControllerRuntime } from '../../runtime/runtime.js';
import type { ApiDeps, ZodApp } from '../deps.js';
import { statusesOf } from '../openapi.js';

function runtimeOf(s: ApiDeps): ControllerRuntime {
  const runtime = s.ctx.runtime;
  if (!runtime) throw new RuntimeError('NO_RUNTIME', 'this node runs without runtime data');
  return runtime;
}

function circuitsOf(s: ApiDeps): CircuitDirectory {
  const circuits = s.ctx.circuits;
  if (!circuits) throw new RuntimeError('NO_RUNTIME', 'this node runs without runtime data');
  return circuits;
}

export function runtimeRoutes(app: ZodApp, s: ApiDeps): void {
  app.get(
    '/links',
    {
      schema: {
        tags: ['runtime'],
        operationId: 'listLinks',
        summary: 'The links this node knows (reported by routers)',
        response: { 200: linkList },
        problems: [503],
      },
    },
    async () => {
      const data = runtimeOf(s).listLinks();
      return { data, meta: { total: data.length } };
    },
  );

  app.get(
    '/circuits',
    {
      schema: {
        tags: ['runtime'],
        operationId: 'listCircuits',
        summary: 'Circuits with their owners: of every member that answers (default), or this node’s',
        querystring: circuitsQuery,
        response: { 200: circuitList },
        problems: [503],
      },
    },
    async (request) => {
      if (request.query.scope === 'local') {
        const data = runtimeOf(s).listCircuits();
        return { data, meta: { total: data.length, unreachable: [] } };
      }
      const { data, unreachable } = await circuitsOf(s).list();
      return { data, meta: { total: data.length, unreachable } };
    },
  );

  app.get(
    '/circuits/:id',
    {
      schema: {
        tags: ['runtime'],
        operationId: 'getCircuit',
        summary: 'A circuit, from whichever member owns it',
        params: circuitParams,
        response: { 200: circuit },
        problems: [404, 503, 504],
      },
    },
    async (request) => {
      return circuitsOf(s).get(request.params.id);
    },
  );

  app.post(
    '/circuits',
    {
      schema: {
        tags: ['runtime'],
        operationId: 'createCircuit',
        summary: 'Create a circuit: the ingress router dials it through its most responsive controller',
        body: createCircuitBody,
        response: { 201: createdCircuit },
        problems: statusesOf(RUNTIME_PROBLEMS),
      },
    },
    async (request, reply) => {
      const { identity, service, ingressRouter } = request.body;
      const circuit = await runtimeOf(s).dialThroughRouter(identity, service, ingressRouter);
      return reply.code(201).send(circuit);
    },
  );

  app.delete(
    '/circuits/:id',
    {
      schema: {
        tags: ['runtime'],
        operationId: 'deleteCircuit',
        summary: 'Tear down a circuit through its owner',
        params: circuitParams,
        response: { 200: circuitDeleted },
        problems: [404, 503, 504],
      },
    },
    async (request) => {
      await circuitsOf(s).remove(request.params.id);
      return { id: request.params.id, deleted: true };
    },
  );

  app.get(
    '/runtime',
    {
      schema: {
        tags: ['runtime'],
        operationId: 'getRuntime',
        summary: 'Router channel status and drop counts',
        response: { 200: runtimeStatus },
        problems: [503],
      },
    },
    async () => runtimeOf(s).status(),
  );

  // A production node has no way to slow its own router channel down: the route is not there.
  if (!s.ctx.faults) return;
  app.put(
    '/runtime/faults',
    {
      schema: {
        tags: ['runtime'],
        operationId: 'setRuntimeFaults',
        summary: 'Tests and the lab only: delay every answer and request on the router channel',
        body: runtimeFaultsBody,
        response: { 200: runtimeFaults },
        problems: [503],
      },
    },
    async (request) => {
      runtimeOf(s).channel.setDelay(request.body.routerDelayMs);
      return { routerDelayMs: runtimeOf(s).channel.delay };
    },
  );
}
