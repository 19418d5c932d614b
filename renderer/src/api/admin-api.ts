/**
 * AdminApi: the one client the UI uses to talk to a node, over HTTP (fetch) and socket.io. It
 * knows nothing of React or the DOM, so the same code runs in Electron, in a browser and in the
 * unit tests (against a real HTTP server).
 */
import { io, type Socket } from 'socket.io-client';
import { ApiClient, type ApiClientOptions } from '../../../client/api-client.js';
import { normaliseBacklog, normaliseEvent } from './events.js';
import type {
  AddMemberRequest,
  Circuit,
  CircuitList,
  ClusterCa,
  ClusterView,
  CollectionName,
  CreatedInvitation,
  RouterEnrollmentState,
  CreateCircuitRequest,
  CreatedCircuit,
  Entity,
  Invitation,
  ListPage,
  LinkList,
  ListQuery,
  MeshEvent,
  PolicyCheck,
  RuntimeStatus,
  ServicePolicyType,
  WriteResult,
} from './types.js';

export {
  API_PREFIX,
  buildRequest,
  type ApiRequest,
  type HttpMethod,
  type StartingWaitOptions as LoginWaitOptions,
} from '../../../client/api-client.js';

export interface AdminApiOptions extends ApiClientOptions {
  /** Where the node is: `http://127.0.0.1:8440`, or '' for the page's own origin (the default). */
  readonly baseUrl?: string;
  /** The current bearer token, read on every request. */
  readonly getToken: () => string | null;
  /** socket.io's path on the node. */
  readonly socketPath?: string;
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

function entityPath(collection: CollectionName, id?: string): string {
  return id === undefined ? `/${collection}` : `/${collection}/${encodeURIComponent(id)}`;
}

function writeHeaders(options: PatchOptions | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  if (options?.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
  if (options?.ifRevision !== undefined) headers['if-match'] = `"${options.ifRevision}"`;
  return headers;
}

/**
 * The UI's client: the shared ApiClient (requests, errors, waiting through "starting") plus the
 * model, cluster, runtime and events calls the pages make.
 */
export class AdminApi extends ApiClient {
  declare protected readonly options: AdminApiOptions;

  constructor(options: AdminApiOptions) {
    super(options);
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

  /** Whether the router holds a good certificate, and its enrollment tokens not used yet. */
  routerEnrollment(routerId: string): Promise<RouterEnrollmentState> {
    return this.get<RouterEnrollmentState>(`/routers/${encodeURIComponent(routerId)}/enrollment`);
  }

  /** Mints a one-time enrollment token for a router: the answer is the only time it is shown. */
  enrollRouter(routerId: string, expiresInMinutes: number): Promise<WriteResult<CreatedInvitation>> {
    return this.send<CreatedInvitation>({
      method: 'POST',
      path: `/routers/${encodeURIComponent(routerId)}/enrollment`,
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
