/**
 * The runtime page's data: the answering controller's router channel (`GET /runtime`), the link
 * table (`GET /links`) and the circuits of the cluster (`GET /circuits`, with the members that did
 * not answer), plus the names of the identities and services the circuits refer to. Loaded
 * together; a failed reload keeps the last good data shown with the error beside it.
 */
import { createStore } from 'zustand/vanilla';
import type { AdminApi } from '../api/admin-api.js';
import { ApiError } from '../api/problem.js';
import type { Circuit, CircuitList, LinkList, RuntimeLink, RuntimeStatus } from '../api/types.js';

export interface RuntimeSnapshot {
  readonly status: RuntimeStatus;
  readonly links: LinkList;
  readonly circuits: CircuitList;
}

export interface RuntimeState {
  readonly status: RuntimeStatus | null;
  readonly links: readonly RuntimeLink[] | null;
  readonly circuits: readonly Circuit[] | null;
  /** Members whose circuits are missing because they did not answer. */
  readonly unreachable: readonly string[];
  /** Names of identities and services by id (the circuits carry ids only). */
  readonly names: Readonly<Record<string, string>>;
  readonly loading: boolean;
  /** Why the last load failed (an ApiError when the node answered); null after a good load. */
  readonly error: unknown;
  /** The node answered that it runs without runtime data (503 NO_RUNTIME). */
  readonly noRuntime: boolean;
}

export interface RuntimeActions {
  loadStarted(): void;
  loaded(snapshot: RuntimeSnapshot): void;
  failed(error: unknown): void;
  namesLoaded(names: Readonly<Record<string, string>>): void;
  circuitCreated(circuit: Circuit): void;
  circuitDeleted(id: string): void;
}

export const initialRuntimeState: RuntimeState = {
  status: null,
  links: null,
  circuits: null,
  unreachable: [],
  names: {},
  loading: false,
  error: null,
  noRuntime: false,
};

export function isNoRuntime(error: unknown): boolean {
  return error instanceof ApiError && error.status === 503 && error.problem.code === 'NO_RUNTIME';
}

// --- transitions ------------------------------------------------------------------------------

export function runtimeLoadStarted(state: RuntimeState): RuntimeState {
  return { ...state, loading: true };
}

export function runtimeLoaded(state: RuntimeState, snapshot: RuntimeSnapshot): RuntimeState {
  return {
    ...state,
    status: snapshot.status,
    links: snapshot.links.data,
    circuits: snapshot.circuits.data,
    unreachable: snapshot.circuits.meta.unreachable,
    loading: false,
    error: null,
    noRuntime: false,
  };
}

export function runtimeFailed(state: RuntimeState, error: unknown): RuntimeState {
  return { ...state, loading: false, error, noRuntime: isNoRuntime(error) };
}

export function runtimeNamesLoaded(
  state: RuntimeState,
  names: Readonly<Record<string, string>>,
): RuntimeState {
  return { ...state, names: { ...state.names, ...names } };
}

/** A circuit made from the page shows at once (the next load confirms it). */
export function runtimeCircuitCreated(state: RuntimeState, circuit: Circuit): RuntimeState {
  const circuits = state.circuits ?? [];
  if (circuits.some((c) => c.id === circuit.id)) return state;
  return { ...state, circuits: [...circuits, circuit] };
}

export function runtimeCircuitDeleted(state: RuntimeState, id: string): RuntimeState {
  if (!state.circuits?.some((c) => c.id === id)) return state;
  return { ...state, circuits: state.circuits.filter((c) => c.id !== id) };
}

/** The identity and service ids the circuits name that have no known name yet. */
export function unnamedIds(state: RuntimeState): { identities: string[]; services: string[] } {
  const identities = new Set<string>();
  const services = new Set<string>();
  for (const c of state.circuits ?? []) {
    if (!(c.identityId in state.names)) identities.add(c.identityId);
    if (!(c.serviceId in state.names)) services.add(c.serviceId);
  }
  return { identities: [...identities], services: [...services] };
}

export function createRuntimeStore() {
  return createStore<RuntimeState & RuntimeActions>()((set, get) => ({
    ...initialRuntimeState,
    loadStarted: () => set(runtimeLoadStarted(get())),
    loaded: (snapshot) => set(runtimeLoaded(get(), snapshot)),
    failed: (error) => set(runtimeFailed(get(), error)),
    namesLoaded: (names) => set(runtimeNamesLoaded(get(), names)),
    circuitCreated: (circuit) => set(runtimeCircuitCreated(get(), circuit)),
    circuitDeleted: (id) => set(runtimeCircuitDeleted(get(), id)),
  }));
}

export type RuntimeStore = ReturnType<typeof createRuntimeStore>;

// --- loading ------------------------------------------------------------------------------------

/** Ids per request when asking for names (`id in [...]`); the filter is capped at 4 KiB. */
const NAME_BATCH = 50;

function quote(value: string): string {
  return JSON.stringify(value);
}

async function namesOf(
  api: AdminApi,
  collection: 'identities' | 'services',
  ids: readonly string[],
): Promise<Record<string, string>> {
  const names: Record<string, string> = {};
  for (let i = 0; i < ids.length; i += NAME_BATCH) {
    const batch = ids.slice(i, i + NAME_BATCH);
    const page = await api.list(collection, {
      filter: `id in [${batch.map(quote).join(', ')}]`,
      limit: batch.length,
    });
    for (const entity of page.data) {
      if (typeof entity.name === 'string') names[entity.id] = entity.name;
    }
  }
  return names;
}

/**
 * Loads the three views at once, then the names the circuits need. A failure to resolve names
 * is not an error of the page: the ids stay shown.
 */
export async function loadRuntime(api: AdminApi, store: RuntimeStore): Promise<void> {
  store.getState().loadStarted();
  let snapshot: RuntimeSnapshot;
  try {
    const [status, links, circuits] = await Promise.all([api.runtimeStatus(), api.links(), api.circuits()]);
    snapshot = { status, links, circuits };
  } catch (error) {
    store.getState().failed(error);
    return;
  }
  store.getState().loaded(snapshot);
  const missing = unnamedIds(store.getState());
  if (missing.identities.length === 0 && missing.services.length === 0) return;
  try {
    const [identities, services] = await Promise.all([
      namesOf(api, 'identities', missing.identities),
      namesOf(api, 'services', missing.services),
    ]);
    store.getState().namesLoaded({ ...identities, ...services });
  } catch {
    // Names are a convenience: the ids are shown instead.
  }
}
