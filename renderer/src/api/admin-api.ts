/**
 * AdminApi: the one client the UI uses to talk to a node, over HTTP (fetch) and socket.io. It
 * knows nothing of React or the DOM, so the same code runs in Electron, in a browser and in the
 * unit tests (against a real HTTP server).
 */
import { io, type Socket } from 'socket.io-client';
import { normaliseBacklog, normaliseEvent } from './events.js';
import { ApiError, isStarting, networkError, parseRetryAfter, toProblem } from './problem.js';
import type {
  AddMemberRequest,
  Circuit,
  CircuitList,
  ClusterCa,
  ClusterView,
  CollectionName,
  CreatedInvitation,
  CreateCircuitRequest,
  CreatedCircuit,
  Entity,
  Health,
  Invitation,
  ListPage,
  LinkList,
  ListQuery,
  LoginResult,
  MeshEvent,
  PolicyCheck,
  RuntimeStatus,
  ServicePolicyType,
  WriteResult,
} from './types.js';

export const API_PREFIX = '/api/v1';

export interface AdminApiOptions {
  /** Where the node is: `http://127.0.0.1:8440`, or '' for the page's own origin (the default). */
  readonly baseUrl?: string;
  /** The current bearer token, read on every request. */
  readonly getToken: () => string | null;
  /** Called when the node refuses the token (401 on anything but login). */
  readonly onUnauthorized?: () => void;
  /** socket.io's path on the node. */
  readonly socketPath?: string;
  readonly fetch?: typeof fetch;
}

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'DELETE';

export interface ApiRequest {
  readonly method: HttpMethod;
  /** The path below `/api/v1`, already encoded where it holds ids. */
  readonly path: string;
  readonly query?: Readonly<Record<string, string | number | undefined>>;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  /** Whether to send the bearer token (every route but login and health). */
  readonly auth?: boolean;
}

export interface LoginWaitOptions {
  /** Called each time the node answers that it is still starting, before waiting. */
  readonly onStarting?: (error: ApiError) => void;
  /** How long to keep waiting for a starting node, in ms (default 60 s). */
  readonly timeoutMs?: number;
}

export interface WriteOptions {
  /** Makes a retry of the same write safe: the node applies it at most once. */
  readonly idempotencyKey?: string;
}

export interface PatchOptions extends WriteOptions {
  /** The revision the edit started from: the node answers 412 if the entity changed since. */
  readonly ifRevision?: number;
}

export type EventConnectionState = 'connecting' | 'connected' | 'disconnected';

export interface EventHandlers {
  readonly onEvent: (event: MeshEvent) => void;
  readonly onState?: (state: EventConnectionState, detail?: string) => void;
}

export interface EventSubscription {
  close(): void;
}

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
    },
  };
}

function entityPath(collection: CollectionName, id?: string): string {
  return id === undefined ? `/${collection}` : `/${collection}/${encodeURIComponent(id)}`;
}

function writeHeaders(options: PatchOptions | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  if (options?.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
  if (options?.ifRevision !== undefined) headers['if-match'] = `"${options.ifRevision}"`;
  return headers;
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

export class AdminApi {
  readonly baseUrl: string;
  private readonly options: AdminApiOptions;
  private readonly fetchImpl: typeof fetch;

  constructor(options: AdminApiOptions) {
    this.options = options;
    this.baseUrl = (options.baseUrl ?? '').replace(/\/+$/, '');
    // fetch must be called unbound from window in browsers: keep a wrapper, not a method reference.
    this.fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
  }

  /** Sends a request; resolves with the parsed body and the write's Raft index, or throws ApiError. */
  async send<T>(request: ApiRequest): Promise<WriteResult<T>> {
    const { response, body } = await this.exchange(request);
    return this.answer<T>(request, response, body);
  }

  private async exchange(request: ApiRequest): Promise<{ response: Response; body: ReadBody }> {
    const { url, init } = buildRequest(this.baseUrl, request, this.options.getToken());
    try {
      const response = await this.fetchImpl(url, init);
      return { response, body: await readBody(response) };
    } catch (cause) {
      throw networkError(cause);
    }
  }

  private answer<T>(request: ApiRequest, response: Response, body: ReadBody): WriteResult<T> {
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
      body: body.json as T,
      raftIndex: index !== null && /^\d+$/.test(index) ? Number(index) : null,
    };
  }

  private async get<T>(path: string, query?: ApiRequest['query']): Promise<T> {
    return (await this.send<T>({ method: 'GET', path, ...(query ? { query } : {}) })).body;
  }

  // --- auth and health ------------------------------------------------------------------------

  async login(username: string, password: string): Promise<LoginResult> {
    const result = await this.send<LoginResult>({
      method: 'POST',
      path: '/auth/login',
      body: { username, password },
      auth: false,
    });
    return result.body;
  }

  /**
   * Logs in, waiting while the node is still starting (503 STARTING: its first admin has not been
   * created or has not reached it yet) as its Retry-After says, up to `timeoutMs`. Any other
   * failure, or STARTING after the bound, throws.
   */
  async loginWhenReady(
    username: string,
    password: string,
    options: LoginWaitOptions = {},
  ): Promise<LoginResult> {
    const deadline = Date.now() + (options.timeoutMs ?? 60_000);
    for (;;) {
      try {
        return await this.login(username, password);
      } catch (error) {
        if (!isStarting(error)) throw error;
        const waitMs = Math.max(1, error.retryAfter ?? 1) * 1000;
        if (Date.now() + waitMs > deadline) throw error;
        options.onStarting?.(error);
        await new Promise((resolve) => setTimeout(resolve, waitMs));
      }
    }
  }

  /** The node's health; a starting node answers 503 with the same document, `status: 'starting'`. */
  async health(): Promise<Health> {
    const request: ApiRequest = { method: 'GET', path: '/health', auth: false };
    const { response, body } = await this.exchange(request);
    const starting = body.json as Health | undefined;
    if (response.status === 503 && starting?.status === 'starting') return starting;
    return this.answer<Health>(request, response, body).body;
  }

  // --- the model --------------------------------------------------------------------------------

  list(collection: CollectionName, query: ListQuery = {}): Promise<ListPage> {
    return this.get<ListPage>(entityPath(collection), {
      limit: query.limit,
      offset: query.offset,
      filter: query.filter?.trim(),
      sort: query.sort,
    });
  }

  getEntity(collection: CollectionName, id: string): Promise<Entity> {
    return this.get<Entity>(entityPath(collection, id));
  }

  create(collection: CollectionName, data: object, options?: WriteOptions): Promise<WriteResult<Entity>> {
    return this.send<Entity>({
      method: 'POST',
      path: entityPath(collection),
      body: data,
      headers: writeHeaders(options),
    });
  }

  patch(
    collection: CollectionName,
    id: string,
    data: object,
    options?: PatchOptions,
  ): Promise<WriteResult<Entity>> {
    return this.send<Entity>({
      method: 'PATCH',
      path: entityPath(collection, id),
      body: data,
      headers: writeHeaders(options),
    });
  }

  remove(collection: CollectionName, id: string, options?: PatchOptions): Promise<WriteResult<unknown>> {
    return this.send<unknown>({
      method: 'DELETE',
      path: entityPath(collection, id),
      headers: writeHeaders(options),
    });
  }

  policyCheck(identity: string, service: string, type: ServicePolicyType): Promise<PolicyCheck> {
    return this.get<PolicyCheck>('/policy-check', { identity, service, type });
  }

  // --- the cluster ------------------------------------------------------------------------------

  cluster(): Promise<ClusterView> {
    return this.get<ClusterView>('/cluster');
  }

  addMember(request: AddMemberRequest): Promise<WriteResult<unknown>> {
    return this.send({ method: 'POST', path: '/cluster/members', body: request });
  }

  removeMember(id: string): Promise<WriteResult<unknown>> {
    return this.send({ method: 'DELETE', path: `/cluster/members/${encodeURIComponent(id)}` });
  }

  transferLeadership(to?: string): Promise<WriteResult<unknown>> {
    return this.send({
      method: 'POST',
      path: '/cluster/transfer-leadership',
      body: to === undefined ? {} : { to },
    });
  }

  snapshot(): Promise<WriteResult<unknown>> {
    return this.send({ method: 'POST', path: '/cluster/snapshot', body: {} });
  }

  /** Join tokens and their state (pending, used, revoked, expired); never their secrets. */
  async invitations(): Promise<readonly Invitation[]> {
    return (await this.get<{ data: Invitation[] }>('/cluster/invitations')).data;
  }

  /** Mints a one-time join token for a new controller: the answer is the only time it is shown. */
  invite(expiresInMinutes: number): Promise<WriteResult<CreatedInvitation>> {
    return this.send<CreatedInvitation>({
      method: 'POST',
      path: '/cluster/invitations',
      body: { expiresInMinutes },
    });
  }

  revokeInvitation(id: string): Promise<WriteResult<Invitation>> {
    return this.send<Invitation>({
      method: 'DELETE',
      path: `/cluster/invitations/${encodeURIComponent(id)}`,
    });
  }

  /** The cluster root CA, for browsers and other machines to trust (no token needed). */
  clusterCa(): Promise<ClusterCa> {
    return this.get<ClusterCa>('/cluster/ca');
  }

  // --- runtime: routers, links and circuits ------------------------------------------------------

  /** The answering controller's router channel: connected routers, counts, drops. */
  runtimeStatus(): Promise<RuntimeStatus> {
    return this.get<RuntimeStatus>('/runtime');
  }

  /** The link table (every controller sees the same links once routers have reported them). */
  links(): Promise<LinkList> {
    return this.get<LinkList>('/links');
  }

  /**
   * Circuits of every member that answers (`cluster`, the default; the others are named in
   * `meta.unreachable`), or only those the answering node owns (`local`).
   */
  circuits(scope?: 'cluster' | 'local'): Promise<CircuitList> {
    return this.get<CircuitList>('/circuits', { scope });
  }

  circuit(id: string): Promise<Circuit> {
    return this.get<Circuit>(`/circuits/${encodeURIComponent(id)}`);
  }

  /** Asks the ingress router to dial: 403 POLICY_DENIED, 422 unknown names, 503 no path. */
  createCircuit(request: CreateCircuitRequest): Promise<WriteResult<CreatedCircuit>> {
    return this.send<CreatedCircuit>({ method: 'POST', path: '/circuits', body: request });
  }

  /** Tears the circuit down through its owner. */
  deleteCircuit(id: string): Promise<WriteResult<{ id: string; deleted: boolean }>> {
    return this.send<{ id: string; deleted: boolean }>({
      method: 'DELETE',
      path: `/circuits/${encodeURIComponent(id)}`,
    });
  }

  // --- events -----------------------------------------------------------------------------------

  async recentEvents(since?: number): Promise<MeshEvent[]> {
    return normaliseBacklog(await this.get<unknown>('/events', { since }));
  }

  /**
   * Live events over socket.io `/events`; reconnects on its own until closed. Each connection
   * asks for what it missed: the events after the highest index seen (`since`), which the node
   * sends from its backlog before the live ones.
   */
  subscribe(handlers: EventHandlers, since = 0): EventSubscription {
    let highest = since;
    const socket: Socket = io(`${this.baseUrl}/events`, {
      path: this.options.socketPath ?? '/socket.io',
      // Read the token on every (re)connection: it may have changed since.
      auth: (send) => send({ token: this.options.getToken() ?? '', since: highest }),
      transports: ['websocket', 'polling'],
    });
    handlers.onState?.('connecting');
    socket.on('connect', () => handlers.onState?.('connected'));
    socket.on('disconnect', (reason) => handlers.onState?.('disconnected', reason));
    socket.on('connect_error', (error) => handlers.onState?.('disconnected', error.message));
    socket.on('event', (payload: unknown) => {
      const event = normaliseEvent('event', payload);
      if (!event) return;
      if (event.index !== null && event.type.startsWith('entity.')) highest = Math.max(highest, event.index);
      handlers.onEvent(event);
    });
    return { close: () => socket.close() };
  }
}
