/**
 * One small store per collection list: search, filter, sort and paging. The sort and the page size
 * are remembered per collection; the search and the filter are not (a list opens unfiltered).
 */
import { createStore } from 'zustand/vanilla';
import type { CollectionName } from '../api/types.js';
import {
  PAGE_SIZES,
  goToPage,
  initialTableState,
  setFilter,
  setPageSize,
  setSearch,
  toggleSort,
  type SortState,
  type TableState,
} from '../model/list-query.js';
import { readJson, writeJson, type KeyValueStorage } from './storage.js';

export interface TableActions {
  setSearch(search: string): void;
  setFilter(filter: string): void;
  toggleSort(field: string): void;
  setPageSize(limit: number): void;
  goToPage(page: number, total: number): void;
}

export type TableStore = ReturnType<typeof createTableStore>;

export function tableKey(collection: CollectionName): string {
  return `meshdesk.table.${collection}`;
}

interface RememberedPrefs {
  readonly sort: SortState | null;
  readonly limit: number;
}

/** What is remembered, checked: a stored value from an older version must not break the page. */
export function restorePrefs(stored: unknown, sortable: ReadonlySet<string>): Partial<TableState> {
  if (typeof stored !== 'object' || stored === null) return {};
  const prefs = stored as Partial<RememberedPrefs>;
  const out: { sort?: SortState | null; limit?: number } = {};
  if ((PAGE_SIZES as readonly number[]).includes(prefs.limit as number)) out.limit = prefs.limit as number;
  const sort = prefs.sort;
  if (
    sort &&
    typeof sort.field === 'string' &&
    sortable.has(sort.field) &&
    (sort.direction === 'asc' || sort.direction === 'desc')
  ) {
    out.sort = { field: sort.field, direction: sort.direction };
  }
  return out;
}

export function createTableStore(
  collection: CollectionName,
  storage: KeyValueStorage,
  sortable: ReadonlySet<string>,
) {
  const key = tableKey(collection);
  const store = createStore<TableState & TableActions>()((set, get) => ({
    ...initialTableState,
    ...restorePrefs(readJson(storage, key), sortable),
    setSearch: (search) => set(setSearch(get(), search)),
    setFilter: (filter) => set(setFilter(get(), filter)),
    toggleSort: (field) => set(toggleSort(get(), field)),
    setPageSize: (limit) => set(setPageSize(get(), limit)),
    goToPage: (page, total) => set(goToPage(get(), page, total)),
  }));
  store.subscribe((state, previous) => {
    if (state.sort !== previous.sort || state.limit !== previous.limit) {
      writeJson(storage, key, { sort: state.sort, limit: state.limit } satisfies RememberedPrefs);
    }
  });
  return store;
}
