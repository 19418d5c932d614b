/**
 * The one client of a node's REST API, shared by the UI (AdminApi extends it), the CLI and a
 * joining node. It builds requests, sends them through the fetch it is given (the browser's, or
 * one that verifies HTTPS against the cluster CA: server-trust.ts, the one place that pins it),
 * turns every failure into an ApiError, parses answers with the contract's schemas where the
 * caller names one, and waits through a node that is still starting as its Retry-After says.
 * No DOM and no Node imports: the UI bundles it.
 */
import type { z } from 'zod';
import { health as healthSchema, loginAnswer } from '../contract/index.js';
import { ApiError, isStarting, networkError, parseRetryAfter, toProblem } from './problem.js';

export const API_PREFIX = '/api/v1';

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

export interface ApiRequest {
  readonly method: HttpMethod;
  /** The path below `/api/v1`, already encoded where it holds ids. */
  readonly path: string;
  readonly query?: Readonly<Record<string, string | number | undefined>>;
  /** Sent as JSON. */
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  /** Whether to send the bearer token (every route but login, health and the public ones). */
  readonly auth?: boolean;
  /** Gives up after this long (a network failure); default: no bound of its own. */
  readonly timeoutMs?: number;
}

/** What a write returns besides its body: the Raft index it applied at on the answering node. */
export interface WriteResult<T> {
  readonly body: T;
  readonly raftIndex: number | null;
}

export type Fetch = (url: string, init?: RequestInit) => Promise<Response>;

export interface ApiClientOptions {
  /** Where the node is: `https://10.0.0.5:8440`, or '' for the page's own origin. */
  readonly baseUrl?: string;
  /** The current bearer token, read on every request. */
  readonly getToken?: () => string | null;
  /** Called when the node refuses the token (401 on anything that sent one). */
  readonly onUnauthorized?: () => void;
  /** How requests go out; the global fetch by default. */
  readonly fetch?: Fetch;
}

export interface StartingWaitOptions {
  /** Called each time the node answers that it is still starting, before waiting. */
  readonly onStarting?: (error: ApiError) => void;
  /** How long to keep waiting for a starting node, in ms (default 60 s). */
  readonly timeoutMs?: number;
}

export type Health = z.infer<typeof healthSchema>;
export type LoginResult = z.infer<typeof loginAnswer>;

/** The URL and fetch options of a request: pure, so the tests can check it exactly. */
export function buildRequest(
  baseUrl: string,
  request: ApiRequest,
  token: string | null,
): { url: string; init: RequestInit } {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(request.query ?? {})) {
    if (value !== undefined && value !== '') params.set(key, String(value));
  }
  const search = params.size > 0 ? `?${params.toString()}` : '';
  const url = `${baseUrl.replace(/\/+$/, '')}${API_PREFIX}${request.path}${search}`;
  const headers: Record<string, string> = { accept: 'application/json, application/problem+json' };
  if (request.body !== undefined) headers['content-type'] = 'application/json';
  if (request.auth !== false && token) headers.authorization = `Bearer ${token}`;
  Object.assign(headers, request.headers);
  return {
    url,
    init: {
      method: request.method,
      headers,
      ...(request.body !== undefined ? { body: JSON.stringify(request.body) } : {}),
      ...(request.timeoutMs !== undefined ? { signal: AbortSignal.timeout(request.timeoutMs) } : {}),
    },
  };
}

interface ReadBody {
  readonly json: unknown;
  readonly text: string;
}

async function readBody(response: Response): Promise<ReadBody> {
  const text = await response.text();
  if (text === '') return { json: undefined, text };
  const type = response.headers.get('content-type') ?? '';
  if (!type.includes('json')) return { json: undefined, text };
  try {
    return { json: JSON.parse(text) as unknown, text };
  } catch {
    return { json: undefined, text };
  }
}

export class ApiClient {
  readonly baseUrl: string;
  protected readonly options: ApiClientOptions;
  private readonly fetchImpl: Fetch;

  constructor(options: ApiClientOptions = {}) {
    this.options = options;
    this.baseUrl = (options.baseUrl ?? '').replace(/\/+$/, '');
    // fetch must be called unbound from window in browsers: keep a wrapper, not a method reference.
    this.fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
  }

  /**
   * Sends a request; resolves with the body (parsed by `schema` when given) and the write's Raft
   * index, or throws ApiError.
   */
  async send<T>(request: ApiRequest, schema?: z.ZodType<T>): Promise<WriteResult<T>> {
    const { response, body } = await this.exchange(request);
    return this.answer<T>(request, response, body, schema);
  }

  /** The raw answer of a successful request (a backup's bytes); a failure throws ApiError. */
  async raw(request: ApiRequest): Promise<Response> {
    const response = await this.fetchOnce(request);
    if (!response.ok) this.answer(request, response, await readBody(response));
    return response;
  }

  protected async get<T>(path: string, query?: ApiRequest['query'], schema?: z.ZodType<T>): Promise<T> {
    return (await this.send<T>({ method: 'GET', path, ...(query ? { query } : {}) }, schema)).body;
  }

  protected token(): string | null {
    return this.options.getToken?.() ?? null;
  }

  /** The request sent; a node that cannot be reached becomes a network ApiError. */
  private async fetchOnce(request: ApiRequest): Promise<Response> {
    const { url, init } = buildRequest(this.baseUrl, request, this.token());
    try {
      return await this.fetchImpl(url, init);
    } catch (cause) {
      throw networkError(cause);
    }
  }

  private async exchange(request: ApiRequest): Promise<{ response: Response; body: ReadBody }> {
    const response = await this.fetchOnce(request);
    try {
      return { response, body: await readBody(response) };
    } catch (cause) {
      // The connection broke while the answer came in.
      throw networkError(cause);
    }
  }

  private answer<T>(
    request: ApiRequest,
    response: Response,
    body: ReadBody,
    schema?: z.ZodType<T>,
  ): WriteResult<T> {
    if (!response.ok) {
      const problem = toProblem(response.status, body.json, body.text);
      const retryAfter = parseRetryAfter(response.headers.get('retry-after'));
      if (response.status === 401 && request.auth !== false) {
        this.options.onUnauthorized?.();
        throw new ApiError('unauthorized', 401, problem, retryAfter);
      }
      throw new ApiError('http', response.status, problem, retryAfter);
    }
    const index = response.headers.get('x-raft-index');
    return {
      body: schema ? this.parsed(request, response.status, body.json, schema) : (body.json as T),
      raftIndex: index !== null && /^\d+$/.test(index) ? Number(index) : null,
    };
  }

  private parsed<T>(request: ApiRequest, status: number, json: unknown, schema: z.ZodType<T>): T {
    const result = schema.safeParse(json);
    if (result.success) return result.data;
    const where = result.error.issues[0]?.path.join('.') || 'the body';
    throw new ApiError('answer', status, {
      title: 'The node answered something else',
      status,
      detail: `${request.method} ${request.path}: ${where} is not what the API contract says`,
      errors: [],
    });
  }

  // --- what every client needs ---------------------------------------------------------------

  /** `GET /health`: the document, also the one a starting node sends with its 503. */
  async health(): Promise<Health> {
    const request: ApiRequest = { method: 'GET', path: '/health', auth: false };
    const { response, body } = await this.exchange(request);
    if (response.status === 503) {
      const starting = healthSchema.safeParse(body.json);
      if (starting.success && starting.data.status === 'starting') return starting.data;
    }
    return this.answer(request, response, body, healthSchema).body;
  }

  async login(username: string, password: string): Promise<LoginResult> {
    const request: ApiRequest = {
      method: 'POST',
      path: '/auth/login',
      body: { username, password },
      auth: false,
    };
    return (await this.send(request, loginAnswer)).body;
  }

  /**
   * Logs in, waiting while the node is still starting (503 STARTING: its first admin has not been
   * created or has not reached it yet) as its Retry-After says, up to `timeoutMs`. Any other
   * failure, or STARTING after the bound, throws.
   */
  loginWhenReady(
    username: string,
    password: string,
    options: StartingWaitOptions = {},
  ): Promise<LoginResult> {
    return whileStarting(() => this.login(username, password), options);
  }
}

/**
 * Runs `attempt` again while it fails with 503 STARTING, waiting as Retry-After says (1 s when
 * absent), up to `timeoutMs` (default 60 s); any other failure, or STARTING past the bound, throws.
 */
export async function whileStarting<T>(
  attempt: () => Promise<T>,
  options: StartingWaitOptions = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (!isStarting(error)) throw error;
      const waitMs = Math.max(1, error.retryAfter ?? 1) * 1000;
      if (Date.now() + waitMs > deadline) throw error;
      options.onStarting?.(error);
      await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
  }
}
