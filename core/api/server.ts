/**
 * createApiServer: the controller's REST API (`/api/v1`), socket.io events on the same HTTP
 * server, and optionally the admin UI at `/`. It composes the route modules under one auth hook,
 * one error table (problem.ts) and one metrics registry; it holds no state the model does not.
 */
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import swagger from '@fastify/swagger';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { authenticate } from './auth.js';
import type { ApiContext } from './context.js';
import { EventLog, recordEvents, recordRuntimeEvents } from './events.js';
import { allowedHosts } from './host-check.js';
import { attachLiveEvents } from './live-events.js';
import { createMetrics } from './metrics.js';
import { PROBLEM_CONTENT_TYPE, problem, toProblem } from './problem.js';
import { NodeReadiness } from './readiness.js';
import { batchRoutes } from './routes/batch.js';
import { clusterRoutes } from './routes/cluster.js';
import { backupRoutes } from './routes/backup.js';
import { collectionRoutes } from './routes/collections.js';
import { invitationRoutes } from './routes/invitations.js';
import { routerEnrollmentRoutes } from './routes/router-enrollment.js';
import { debugRoutes } from './routes/debug.js';
import { loginRoutes } from './routes/login.js';
import { policyRoutes } from './routes/policies.js';
import { runtimeRoutes } from './routes/runtime.js';
import { systemRoutes } from './routes/system.js';
import { API_PREFIX, MAX_BODY_BYTES, type ApiDeps, type ZodApp } from './deps.js';
import { documentOptions } from './openapi.js';
import { TokenService } from './token.js';
import { DEFAULT_LOGIN_GUARD, LoginGuard, type LoginGuardOptions } from './login-guard.js';
import { publishCommand, publishedTokenKey } from './token-keys.js';
import { propose } from './writes.js';
import { isUiPath, SECURITY_HEADERS, serveUi, UI_CONTENT_SECURITY_POLICY } from './ui.js';

export interface ApiServerOptions {
  readonly host: string;
  readonly port: number;
  /** The built admin UI, served at `/` when given. */
  readonly uiDir?: string;
  /** Lifetime of login tokens (default 12 h). */
  readonly tokenTtlMs?: number;
  /** How long a read waits for `minIndex` before 504 (default 5 s). */
  readonly readWaitMs?: number;
  /** Failed logins allowed per username and client address per window (default 10 per minute). */
  /** How failed logins slow an account down (default DEFAULT_LOGIN_GUARD). */
  readonly loginGuard?: Partial<LoginGuardOptions>;
  /** Events kept for `GET /events?since=` (default 10 000). */
  readonly eventBacklog?: number;
  /**
   * Host names and addresses beyond loopback that requests may name in Host (and socket.io in
   * Origin): the node's addresses and machine name. Any other host is answered 421.
   */
  readonly hosts?: readonly string[];
  /**
   * Serve HTTPS (TLS 1.2 and up) with this key and certificate chain (PEM): required for a bind
   * beyond loopback, where passwords and tokens would otherwise cross the LAN in clear.
   */
  readonly tls?: ApiTls;
}

export interface ApiTls {
  readonly key: string;
  readonly cert: string;
}

export interface ApiServer {
  readonly url: string;
  /** Whether it speaks HTTPS. */
  readonly tls: boolean;
  /** Swaps the certificate for new connections (renewal); no restart. */
  reloadTls(tls: ApiTls): void;
  close(): Promise<void>;
}

function sendProblem(request: FastifyRequest, reply: FastifyReply, err: unknown): FastifyReply {
  const { problem: body, headers, unexpected } = toProblem(err);
  if (unexpected)
    request.log.error({ err, url: request.url, method: request.method }, 'unexpected API error');
  const raftIndex = (err as { raftIndex?: unknown } | null)?.raftIndex;
  if (typeof raftIndex === 'number') reply.header('x-raft-index', String(raftIndex));
  return reply.code(body.status).headers(headers).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(body));
}

export async function createApiServer(ctx: ApiContext, options: ApiServerOptions): Promise<ApiServer> {
  const logger = ctx.logger.child({ component: 'api' });
  let https: HttpsServer | undefined;
  const app = Fastify({
    // One server either way; HTTPS is a tls.Server, which fastify and socket.io serve alike.
    serverFactory: (handler) => {
      if (!options.tls) return createHttpServer(handler);
      https = createHttpsServer({ ...options.tls, minVersion: 'TLSv1.2' }, handler);
      return https as unknown as HttpServer;
    },
    loggerInstance: logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: MAX_BODY_BYTES,
    forceCloseConnections: true,
    return503OnClosing: true,
    routerOptions: { maxParamLength: 1024 },
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  const metrics = createMetrics(
    ctx.replica,
    { node: ctx.nodeId, cluster: ctx.clusterId },
    ctx.transportStats,
  );
  const events = new EventLog(options.eventBacklog);
  const stopModelEvents = recordEvents(events, ctx.model, ctx.replica);
  const stopRuntimeEvents = ctx.runtime
    ? recordRuntimeEvents(events, ctx.runtime, ctx.replica)
    : () => undefined;
  const stopRecording = (): void => {
    stopModelEvents();
    stopRuntimeEvents();
  };
  const deps: ApiDeps = {
    ctx,
    metrics,
    events,
    tokens: new TokenService({
      clusterId: ctx.clusterId,
      keys: ctx.tokenKeys,
      published: (kid) => publishedTokenKey(ctx.model.model, kid),
      publish: async (key) => {
        const at = new Date().toISOString();
        await propose(ctx.replica, metrics, publishCommand(ctx.nodeId, key, at), { at });
      },
      catchUp: async () => {
        await ctx.replica.read('linearizable');
      },
      ...(options.tokenTtlMs !== undefined ? { ttlMs: options.tokenTtlMs } : {}),
    }),
    readWaitMs: options.readWaitMs ?? 5_000,
    loginGuard: new LoginGuard({ ...DEFAULT_LOGIN_GUARD, ...options.loginGuard }),
    readiness: new NodeReadiness(() => ctx.model.model, ctx.started),
    db: () => ctx.model.model,
  };

  // First of all: a request naming a host this node is not (DNS rebinding) gets nothing else.
  const hostCheck = allowedHosts([...(options.hosts ?? []), options.host]);
  app.addHook('onRequest', async (request, reply) => {
    if (hostCheck(request.headers.host)) return;
    const body = problem(421, 'MISDIRECTED', 'this node does not answer for that Host');
    return reply.code(421).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(body));
  });

  app.setErrorHandler((err, request, reply) => sendProblem(request, reply, err));
  app.setNotFoundHandler((request, reply) => {
    if (options.uiDir && isUiPath(request.url) && (request.method === 'GET' || request.method === 'HEAD')) {
      return reply.type('text/html; charset=utf-8').sendFile('index.html');
    }
    const body = problem(404, 'NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`);
    return reply.code(404).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(body));
  });
  app.addHook('onSend', async (request, reply) => {
    reply.headers(SECURITY_HEADERS);
    if (isUiPath(request.url)) reply.header('content-security-policy', UI_CONTENT_SECURITY_POLICY);
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.observeRequest(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
  });

  await app.register(swagger, documentOptions());

  await app.register(
    async (api) => {
      const scoped: ZodApp = api.withTypeProvider<ZodTypeProvider>();
      scoped.addHook('onRequest', authenticate(deps.tokens, deps.db));
      loginRoutes(scoped, deps);
      systemRoutes(scoped, deps);
      collectionRoutes(scoped, deps);
      batchRoutes(scoped, deps);
      policyRoutes(scoped, deps);
      clusterRoutes(scoped, deps);
      invitationRoutes(scoped, deps);
      routerEnrollmentRoutes(scoped, deps);
      backupRoutes(scoped, deps);
      runtimeRoutes(scoped, deps);
      // Test-only (MESHDESK_FAULT_INJECTION=1): absent unless the composition root made the hooks.
      if (ctx.faults) debugRoutes(scoped, deps, ctx.faults);
    },
    { prefix: API_PREFIX },
  );
  if (options.uiDir) await serveUi(app, options.uiDir);

  await app.ready();
  const live = attachLiveEvents(app.server, deps, hostCheck);
  let address: string;
  try {
    address = await app.listen({ host: options.host, port: options.port });
  } catch (err) {
    await live.close();
    stopRecording();
    await app.close();
    throw err;
  }
  logger.info({ address }, 'API listening');
  return {
    url: address,
    tls: https !== undefined,
    reloadTls(tls) {
      https?.setSecureContext({ ...tls, minVersion: 'TLSv1.2' });
    },
    async close() {
      stopRecording();
      await live.close();
      await app.close();
    },
  };
}
