/**
 * Server data in one place: a query key per resource, the queries that load them, and which keys
 * an event from the node makes stale. Pages read through TanStack Query; writes go through
 * AdminApi and then set or invalidate the keys they touched.
 *
 * Per key there is at most one request whose answer counts: a poll joins the one in flight, and
 * an invalidation (an event, a write, Refresh) cancels it and starts anew, so a slow older answer
 * never replaces a newer one.
 */
import {
  QueryCache,
  QueryClient,
  keepPreviousData,
  queryOptions,
  type QueryKey,
} from '@tanstack/react-query';
import type { AdminApi } from './api/admin-api.js';
import { isClusterEvent, isRuntimeEvent } from './api/events.js';
import type { CollectionName, ListQuery, MeshEvent, ServicePolicyType } from './api/types.js';
import { fetchRuntime, type RuntimeView } from './model/runtime.js';

/** Polls, for what changes without an event. */
export const HEALTH_POLL_MS = 4000;
/** Last-contact times on the cluster page. */
export const CLUSTER_POLL_MS = 2000;
/** Link latencies on the runtime page. */
export const RUNTIME_POLL_MS = 5000;
/** A router's page: whether it enrolled (it does so from its own machine, with no event). */
export const ENROLLMENT_POLL_MS = 3000;

export const queryKeys = {
  health: ['health'] as const,
  cluster: ['cluster'] as const,
  /** Reloaded by cluster events too: a join spends a token. (Not under `cluster`, whose root
   * means a cluster view to the banner.) */
  invitations: ['invitations'] as const,
  clusterCa: ['cluster-ca'] as const,
  runtime: ['runtime'] as const,
  /** Every list and entity of one collection. */
  collection: (collection: CollectionName) => ['entities', collection] as const,
  lists: (collection: CollectionName) => ['entities', collection, 'list'] as const,
  list: (collection: CollectionName, query: ListQuery) => ['entities', collection, 'list', query] as const,
  entity: (collection: CollectionName, id: string) => ['entities', collection, 'one', id] as const,
  routerEnrollment: (id: string) => ['router-enrollment', id] as const,
  policyCheck: (identity: string, service: string, type: ServicePolicyType) =>
    ['policy-check', identity, service, type] as const,
};

export function createQueryClient(
  onResult: (key: QueryKey, result: { data: unknown } | { error: unknown }) => void = () => undefined,
): QueryClient {
  return new QueryClient({
    // Only answers that land reach these (a cancelled request's late answer does not).
    queryCache: new QueryCache({
      onSuccess: (data, query) => onResult(query.queryKey, { data }),
      onError: (error, query) => onResult(query.queryKey, { error }),
    }),
    defaultOptions: {
      queries: {
        // The node is often on loopback or an offline LAN: the browser's idea of online is no guide.
        networkMode: 'always',
        // Events and polls retry; a failure shows at once, beside the last good data.
        retry: false,
        refetchOnWindowFocus: false,
      },
      mutations: { networkMode: 'always' },
    },
  });
}

export function healthQuery(api: AdminApi) {
  return queryOptions({
    queryKey: queryKeys.health,
    queryFn: () => api.health(),
    refetchInterval: HEALTH_POLL_MS,
    // The banner says when the node is gone even while the window is hidden.
    refetchIntervalInBackground: true,
  });
}

export function clusterQuery(api: AdminApi) {
  return queryOptions({
    queryKey: queryKeys.cluster,
    queryFn: () => api.cluster(),
    refetchInterval: CLUSTER_POLL_MS,
  });
}

export function invitationsQuery(api: AdminApi) {
  return queryOptions({ queryKey: queryKeys.invitations, queryFn: () => api.invitations() });
}

export function clusterCaQuery(api: AdminApi) {
  // The root CA changes only when it is rotated (a restart-level event): fetched once.
  return queryOptions({ queryKey: queryKeys.clusterCa, queryFn: () => api.clusterCa(), staleTime: Infinity });
}

export function runtimeQuery(api: AdminApi) {
  return queryOptions({
    queryKey: queryKeys.runtime,
    // Names already resolved are carried over, so each is asked for once.
    queryFn: ({ client }) => fetchRuntime(api, client.getQueryData<RuntimeView>(queryKeys.runtime)),
    refetchInterval: RUNTIME_POLL_MS,
  });
}

export function entityListQuery(api: AdminApi, collection: CollectionName, query: ListQuery) {
  return queryOptions({
    queryKey: queryKeys.list(collection, query),
    queryFn: () => api.list(collection, query),
    // Paging, sorting and searching keep the last page shown until the next one is here.
    placeholderData: keepPreviousData,
  });
}

export function entityQuery(api: AdminApi, collection: CollectionName, id: string) {
  return queryOptions({
    queryKey: queryKeys.entity(collection, id),
    queryFn: () => api.getEntity(collection, id),
  });
}

/** A router's enrollment, polled: the router spends its token from another machine. */
export function routerEnrollmentQuery(api: AdminApi, id: string) {
  return queryOptions({
    queryKey: queryKeys.routerEnrollment(id),
    queryFn: () => api.routerEnrollment(id),
    refetchInterval: ENROLLMENT_POLL_MS,
  });
}

export function policyCheckQuery(api: AdminApi, identity: string, service: string, type: ServicePolicyType) {
  return queryOptions({
    queryKey: queryKeys.policyCheck(identity, service, type),
    queryFn: () => api.policyCheck(identity, service, type),
    placeholderData: keepPreviousData,
  });
}

/**
 * Which query keys a batch of events makes stale: an entity event its collection's lists and
 * that entity (not the collection's other entities), and every policy check (policies,
 * identities and services all decide one); cluster events the cluster view and the join tokens;
 * runtime events the runtime view.
 */
export function staleAfter(events: readonly MeshEvent[]): (key: QueryKey) => boolean {
  // Per collection, the ids changed; null for an event that names no id (all of them).
  const changed = new Map<string, Set<string> | null>();
  let cluster = false;
  let runtime = false;
  for (const event of events) {
    if (isClusterEvent(event)) cluster = true;
    if (isRuntimeEvent(event)) runtime = true;
    if (!event.collection) continue;
    const ids = changed.get(event.collection);
    if (event.entityId === null) changed.set(event.collection, null);
    else if (ids === undefined) changed.set(event.collection, new Set([event.entityId]));
    else ids?.add(event.entityId);
  }
  return (key) => {
    const [root, collection, kind, id] = key;
    if (root === 'cluster' || root === 'invitations') return cluster;
    if (root === 'runtime') return runtime;
    if (root === 'policy-check') return changed.size > 0;
    if (root !== 'entities' || typeof collection !== 'string' || !changed.has(collection)) return false;
    const ids = changed.get(collection);
    return kind !== 'one' || !ids || (typeof id === 'string' && ids.has(id));
  };
}

/** Marks what the events changed stale; what is on screen reloads. */
export async function invalidateAfter(client: QueryClient, events: readonly MeshEvent[]): Promise<void> {
  if (events.length === 0) return;
  const stale = staleAfter(events);
  const predicate = (query: { queryKey: QueryKey }) => stale(query.queryKey);
  // An invalidation would join a first load still in flight, which may have been answered before
  // the event: drop it (silently: it is no failure) and ask again.
  await client.cancelQueries({ predicate, fetchStatus: 'fetching' }, { silent: true });
  await client.invalidateQueries({ predicate });
}
