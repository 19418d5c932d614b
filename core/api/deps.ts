/** What the route modules depend on: the context from the composition root and the server's parts. */
import type { LoginGuard } from './login-guard.js';
import type {
  FastifyBaseLogger,
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { ModelDatabase } from '../model/database.js';
import type { ApiContext } from './context.js';
import type { EventLog } from './events.js';
import type { ApiMetrics } from './metrics.js';
import type { NodeReadiness } from './readiness.js';
import type { TokenService } from './token.js';

export type ZodApp = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  ZodTypeProvider
>;

export interface ApiDeps {
  readonly ctx: ApiContext;
  readonly tokens: TokenService;
  readonly metrics: ApiMetrics;
  readonly events: EventLog;
  /** Starting until bootstrap has finished here: health and login say so. */
  readonly readiness: NodeReadiness;
  /** How long a read waits for `minIndex` before answering 504. */
  readonly readWaitMs: number;
  /** Failed logins slow their account down (login-guard.ts). */
  readonly loginGuard: LoginGuard;
  /** The current database: replaced on snapshot restore, so never kept. */
  db(): ModelDatabase;
}

export const API_PREFIX = '/api/v1';

/** The largest request body the API reads. */
export const MAX_BODY_BYTES = 1024 * 1024;
