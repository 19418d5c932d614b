/**
 * From a list page's state to the API's list parameters. The search box becomes a `contains`
 * clause on the collection's search field; the filter box is the API's filter language, passed
 * through; both together are joined with `and`.
 */
import type { CollectionName, ListQuery } from '../api/types.js';
import { describeCollection } from './collections.js';

export type SortDirection = 'asc' | 'desc';

export interface SortState {
  readonly field: string;
  readonly direction: SortDirection;
}

export interface TableState {
  readonly search: string;
  /** The API's filter language, as typed. */
  readonly filter: string;
  /** null: the API's default order for the collection. */
  readonly sort: SortState | null;
  readonly limit: number;
  readonly offset: number;
}

export const PAGE_SIZES = [25, 50, 100, 250] as const;

export const initialTableState: TableState = { search: '', filter: '', sort: null, limit: 25, offset: 0 };

/** A string literal of the filter language: double-quoted with JSON's escapes. */
export function filterString(value: string): string {
  return JSON.stringify(value);
}

export function combinedFilter(collection: CollectionName, search: string, filter: string): string {
  const clauses: string[] = [];
  const term = search.trim();
  if (term !== '')
    clauses.push(`${describeCollection(collection).searchField} contains ${filterString(term)}`);
  const typed = filter.trim();
  if (typed !== '') clauses.push(clauses.length > 0 ? `(${typed})` : typed);
  return clauses.join(' and ');
}

export function sortParameter(sort: SortState | null): string | undefined {
  if (sort === null) return undefined;
  return sort.direction === 'desc' ? `-${sort.field}` : sort.field;
}

export function listQuery(collection: CollectionName, state: TableState): ListQuery {
  const filter = combinedFilter(collection, state.search, state.filter);
  const sort = sortParameter(state.sort);
  return {
    limit: state.limit,
    offset: state.offset,
    ...(filter !== '' ? { filter } : {}),
    ...(sort !== undefined ? { sort } : {}),
  };
}

// --- transitions of a table's state (the table store applies these) -------------------------

/** Clicking a column header: ascending, then descending, then back to the default order. */
export function toggleSort(state: TableState, field: string): TableState {
  let sort: SortState | null;
  if (state.sort?.field !== field) sort = { field, direction: 'asc' };
  else if (state.sort.direction === 'asc') sort = { field, direction: 'desc' };
  else sort = null;
  return { ...state, sort, offset: 0 };
}

/** A new search or filter starts again at the first page. */
export function setSearch(state: TableState, search: string): TableState {
  return search === state.search ? state : { ...state, search, offset: 0 };
}

export function setFilter(state: TableState, filter: string): TableState {
  return filter === state.filter ? state : { ...state, filter, offset: 0 };
}

export function setPageSize(state: TableState, limit: number): TableState {
  return limit === state.limit ? state : { ...state, limit, offset: 0 };
}

/** Moves to a page; clamps to the pages that exist for `total` rows. */
export function goToPage(state: TableState, page: number, total: number): TableState {
  const last = Math.max(0, Math.ceil(total / state.limit) - 1);
  const clamped = Math.min(Math.max(0, Math.floor(page)), last);
  return { ...state, offset: clamped * state.limit };
}

export interface PageInfo {
  /** 0-based. */
  readonly page: number;
  readonly pages: number;
  /** 1-based positions of the first and last row shown; 0 and 0 when none. */
  readonly from: number;
  readonly to: number;
}

export function pageInfo(
  state: Pick<TableState, 'limit' | 'offset'>,
  total: number,
  shown: number,
): PageInfo {
  return {
    page: Math.floor(state.offset / state.limit),
    pages: Math.max(1, Math.ceil(total / state.limit)),
    from: shown === 0 ? 0 : state.offset + 1,
    to: state.offset + shown,
  };
}
