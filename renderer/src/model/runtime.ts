/**
 * The runtime page's data: the answering controller's router channel (`GET /runtime`), the link
 * table (`GET /links`) and the circuits of the cluster (`GET /circuits`, with the members that did
 * not answer), plus the names of the identities and services the circuits refer to. Loaded
 * together as one query (`queryKeys.runtime`); the query cache keeps the last good view beside a
 * failed reload's error.
 */
import type { AdminApi } from '../api/admin-api.js';
import { ApiError } from '../api/problem.js';
import type { Circuit, CircuitList, LinkList, RuntimeLink, RuntimeStatus } from '../api/types.js';

export interface RuntimeSnapshot {
  readonly status: RuntimeStatus;
  readonly links: LinkList;
  readonly circuits: CircuitList;
}

export function isNoRuntime(error: unknown): boolean {
  return error instanceof ApiError && error.status === 503 && error.problem.code === 'NO_RUNTIME';
}

/** What the page shows, kept under `queryKeys.runtime`. */
export interface RuntimeView {
  readonly status: RuntimeStatus;
  readonly links: readonly RuntimeLink[];
  readonly circuits: readonly Circuit[];
  /** Members whose circuits are missing because they did not answer. */
  readonly unreachable: readonly string[];
  /** Names of identities and services by id (the circuits carry ids only). */
  readonly names: Readonly<Record<string, string>>;
}

// --- transitions ------------------------------------------------------------------------------

/** A view from a fresh snapshot; names already known are kept (they are asked for only once). */
export function runtimeView(snapshot: RuntimeSnapshot, names: RuntimeView['names'] = {}): RuntimeView {
  return {
    status: snapshot.status,
    links: snapshot.links.data,
    circuits: snapshot.circuits.data,
    unreachable: snapshot.circuits.meta.unreachable,
    names,
  };
}

export function withNames(view: RuntimeView, names: Readonly<Record<string, string>>): RuntimeView {
  return { ...view, names: { ...view.names, ...names } };
}

export function withoutCircuit(view: RuntimeView | undefined, id: string): RuntimeView | undefined {
  if (!view?.circuits.some((c) => c.id === id)) return view;
  return { ...view, circuits: view.circuits.filter((c) => c.id !== id) };
}

/** The identity and service ids the circuits name that have no known name yet. */
export function unnamedIds(view: RuntimeView): { identities: string[]; services: string[] } {
  const identities = new Set<string>();
  const services = new Set<string>();
  for (const c of view.circuits) {
    if (!(c.identityId in view.names)) identities.add(c.identityId);
    if (!(c.serviceId in view.names)) services.add(c.serviceId);
  }
  return { identities: [...identities], services: [...services] };
}

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
 * Loads the three views at once, then the names the circuits need that `previous` does not
 * know. A failure to resolve names is not an error of the page: the ids stay shown.
 */
export async function fetchRuntime(api: AdminApi, previous?: RuntimeView): Promise<RuntimeView> {
  const [status, links, circuits] = await Promise.all([api.runtimeStatus(), api.links(), api.circuits()]);
  const view = runtimeView({ status, links, circuits }, previous?.names);
  const missing = unnamedIds(view);
  if (missing.identities.length === 0 && missing.services.length === 0) return view;
  try {
    const [identities, services] = await Promise.all([
      namesOf(api, 'identities', missing.identities),
      namesOf(api, 'services', missing.services),
    ]);
    return withNames(view, { ...identities, ...services });
  } catch {
    // Names are a convenience: the ids are shown instead.
    return view;
  }
}
