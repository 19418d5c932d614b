/**
 * What the pages share: the one AdminApi client and the feature stores. Built once in main.tsx and
 * handed down through React context; pages select what they need from each store.
 */
import { createContext, useContext, useEffect, useRef, useState, useSyncExternalStore } from 'react';
import type { StoreApi } from 'zustand/vanilla';
import { useStore } from 'zustand';
import { AdminApi } from './api/admin-api.js';
import type { CollectionName } from './api/types.js';
import { bookkeepingFields, describeCollection } from './model/collections.js';
import { createAuthStore, type AuthStore } from './stores/auth.js';
import { createClusterStore, type ClusterStore } from './stores/cluster.js';
import { createEventsStore, type EventsStore } from './stores/events.js';
import { createRuntimeStore, type RuntimeStore } from './stores/runtime.js';
import type { KeyValueStorage } from './stores/storage.js';
import { createTableStore, type TableStore } from './stores/table.js';

export interface Services {
  readonly api: AdminApi;
  readonly auth: AuthStore;
  readonly cluster: ClusterStore;
  readonly events: EventsStore;
  readonly runtime: RuntimeStore;
  table(collection: CollectionName): TableStore;
}

export interface ServicesOptions {
  readonly baseUrl: string;
  readonly sessionStorage: KeyValueStorage;
  readonly preferences: KeyValueStorage;
}

export function createServices(options: ServicesOptions): Services {
  const auth = createAuthStore(options.sessionStorage);
  const api = new AdminApi({
    baseUrl: options.baseUrl,
    getToken: () => auth.getState().session?.token ?? null,
    onUnauthorized: () => auth.getState().signedOut('Your session ended. Sign in again.'),
  });
  const tables = new Map<CollectionName, TableStore>();
  return {
    api,
    auth,
    cluster: createClusterStore(),
    events: createEventsStore(),
    runtime: createRuntimeStore(),
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

export const ServicesContext = createContext<Services | null>(null);

export function useServices(): Services {
  const services = useContext(ServicesContext);
  if (!services) throw new Error('useServices outside ServicesContext');
  return services;
}

export function useSelect<S, T>(store: StoreApi<S>, selector: (state: S) => T): T {
  return useStore(store, selector);
}

export interface Resource<T> {
  readonly data: T | undefined;
  readonly error: unknown;
  readonly loading: boolean;
  reload(): void;
}

/**
 * Server data for one view: loads when `key` changes, keeps the last good data while reloading
 * (live updates do not flicker), and ignores answers to requests that were superseded.
 */
export function useResource<T>(load: () => Promise<T>, key: string): Resource<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [nonce, setNonce] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  useEffect(() => {
    let current = true;
    setLoading(true);
    loadRef.current().then(
      (value) => {
        if (!current) return;
        setData(value);
        setError(null);
        setLoading(false);
      },
      (cause: unknown) => {
        if (!current) return;
        setError(cause);
        setLoading(false);
      },
    );
    return () => {
      current = false;
    };
  }, [key, nonce]);
  return { data, error, loading, reload: () => setNonce((n) => n + 1) };
}

function subscribeHash(onChange: () => void): () => void {
  window.addEventListener('hashchange', onChange);
  return () => window.removeEventListener('hashchange', onChange);
}

/** The current location hash, re-rendering on change. */
export function useHash(): string {
  return useSyncExternalStore(subscribeHash, () => window.location.hash);
}
