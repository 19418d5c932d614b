/**
 * What the pages share: the one AdminApi client, the query cache that holds the server data, and
 * the feature stores. Built once in main.tsx and handed down through React context; pages select
 * what they need from each.
 */
import type { QueryClient } from '@tanstack/react-query';
import { createContext, useContext, useSyncExternalStore } from 'react';
import type { StoreApi } from 'zustand/vanilla';
import { useStore } from 'zustand';
import { AdminApi } from './api/admin-api.js';
import type { ClusterView, CollectionName, Health } from './api/types.js';
import { bookkeepingFields, describeCollection } from './model/collections.js';
import { createQueryClient, queryKeys } from './queries.js';
import { canChange, createAuthStore, type AuthStore } from './stores/auth.js';
import { createClusterStore, type ClusterStore } from './stores/cluster.js';
import { createEventsStore, type EventsStore } from './stores/events.js';
import type { KeyValueStorage } from './stores/storage.js';
import { createTableStore, type TableStore } from './stores/table.js';

export interface AppContext {
  readonly api: AdminApi;
  readonly queryClient: QueryClient;
  readonly auth: AuthStore;
  readonly cluster: ClusterStore;
  readonly events: EventsStore;
  table(collection: CollectionName): TableStore;
}

export interface AppContextOptions {
  readonly baseUrl: string;
  readonly sessionStorage: KeyValueStorage;
  readonly preferences: KeyValueStorage;
}

export function createAppContext(options: AppContextOptions): AppContext {
  const auth = createAuthStore(options.sessionStorage);
  const api = new AdminApi({
    baseUrl: options.baseUrl,
    getToken: () => auth.getState().session?.token ?? null,
    onUnauthorized: () => auth.getState().signedOut('Your session ended. Sign in again.'),
  });
  const cluster = createClusterStore();
  // The banner follows every health check and cluster view that lands, whichever page asked.
  const queryClient = createQueryClient((key, result) => {
    const [root] = key;
    if (root === queryKeys.health[0]) {
      cluster
        .getState()
        .healthChecked('data' in result ? { health: result.data as Health } : { error: result.error });
    } else if (root === queryKeys.cluster[0]) {
      if ('data' in result) cluster.getState().loaded(result.data as ClusterView);
      else cluster.getState().failed(result.error);
    }
  });
  // Another admin's session must not start from this one's data.
  auth.subscribe((state, before) => {
    if (before.session !== null && state.session === null) queryClient.clear();
  });
  const tables = new Map<CollectionName, TableStore>();
  return {
    api,
    queryClient,
    auth,
    cluster,
    events: createEventsStore(),
    table(collection) {
      let store = tables.get(collection);
      if (!store) {
        const sortable = new Set(
          [...describeCollection(collection).fields, ...bookkeepingFields]
            .filter((f) => f.sortable)
            .map((f) => f.name),
        );
        store = createTableStore(collection, options.preferences, sortable);
        tables.set(collection, store);
      }
      return store;
    },
  };
}

export const AppContextProvider = createContext<AppContext | null>(null);

export function useApp(): AppContext {
  const app = useContext(AppContextProvider);
  if (!app) throw new Error('useApp outside AppContextProvider');
  return app;
}

export function useSelect<S, T>(store: StoreApi<S>, selector: (state: S) => T): T {
  return useStore(store, selector);
}

/** Whether the signed-in admin may change things: a read-only one is offered none (403 anyway). */
export function useCanChange(): boolean {
  const { auth } = useApp();
  return useSelect(auth, (s) => canChange(s.session));
}

function subscribeHash(onChange: () => void): () => void {
  window.addEventListener('hashchange', onChange);
  return () => window.removeEventListener('hashchange', onChange);
}

/** The current location hash, re-rendering on change. */
export function useHash(): string {
  return useSyncExternalStore(subscribeHash, () => window.location.hash);
}
