/**
 * A collection's list, generated from its description: search, the API's filter language, sort by
 * column header, pagination. Events about the collection make its lists stale (queries.ts).
 */
import {
  ArrowDown,
  ArrowUp,
  ArrowUpDown,
  ChevronLeft,
  ChevronRight,
  Plus,
  RefreshCw,
  Search,
} from 'lucide-react';
import { useQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import type { CollectionName, Entity } from '../api/types.js';
import { Empty, ErrorNotice, Loading } from '../components/states.js';
import { describeCollection, filterExample, listColumns } from '../model/collections.js';
import { formatCell } from '../model/format.js';
import { PAGE_SIZES, listQuery, pageInfo } from '../model/list-query.js';
import { formatRoute } from '../router/routes.js';
import { useApp, useCanChange, useSelect } from '../app-context.js';
import { entityListQuery } from '../queries.js';

/** A text input that commits on Enter or after a short pause, not on every key. */
function useDebounced(value: string, commit: (v: string) => void, ms = 300) {
  useEffect(() => {
    const timer = window.setTimeout(() => commit(value), ms);
    return () => window.clearTimeout(timer);
  }, [value, commit, ms]);
}

export function CollectionPage({ collection }: { collection: CollectionName }) {
  const { api, table } = useApp();
  const canChange = useCanChange();
  const description = describeCollection(collection);
  const store = table(collection);
  const state = useSelect(store, (s) => s);
  const [searchText, setSearchText] = useState(state.search);
  const [filterText, setFilterText] = useState(state.filter);
  useDebounced(searchText, store.getState().setSearch);

  const query = listQuery(collection, state);
  const page = useQuery(entityListQuery(api, collection, query));
  const reload = () => void page.refetch();
  const columns = listColumns(collection);
  const rows: readonly Entity[] = page.data?.data ?? [];
  const total = page.data?.meta.total ?? 0;
  const info = pageInfo(state, total, rows.length);
  const filtered = query.filter !== undefined;

  const sortIcon = (field: string) => {
    if (state.sort?.field !== field) return <ArrowUpDown aria-hidden size={12} className="muted" />;
    return state.sort.direction === 'asc' ? (
      <ArrowUp aria-hidden size={12} />
    ) : (
      <ArrowDown aria-hidden size={12} />
    );
  };
  const ariaSort = (field: string) =>
    state.sort?.field === field ? (state.sort.direction === 'asc' ? 'ascending' : 'descending') : undefined;

  return (
    <div className="page">
      <div className="page-header">
        <h1>{description.plural}</h1>
        <div className="actions">
          <button type="button" className="button" onClick={reload}>
            <RefreshCw aria-hidden size={14} /> Refresh
          </button>
          {canChange ? (
            <a className="button primary" href={formatRoute({ page: 'create', collection })}>
              <Plus aria-hidden size={14} /> New {description.singular.toLowerCase()}
            </a>
          ) : null}
        </div>
      </div>

      <div className="toolbar" role="search">
        <label className="search">
          <Search aria-hidden size={14} />
          <span className="visually-hidden">Search by {description.searchField}</span>
          <input
            type="search"
            placeholder={`Search by ${description.searchField}`}
            value={searchText}
            onChange={(e) => setSearchText(e.target.value)}
            onKeyDown={(e) => e.key === 'Enter' && store.getState().setSearch(searchText)}
          />
        </label>
        <form
          className="filter"
          onSubmit={(e) => {
            e.preventDefault();
            store.getState().setFilter(filterText);
          }}
        >
          <label className="grow">
            <span className="visually-hidden">Filter</span>
            <input
              className="mono"
              placeholder={`Filter, e.g. ${filterExample(collection)}`}
              value={filterText}
              onChange={(e) => setFilterText(e.target.value)}
              aria-describedby="filter-help"
            />
          </label>
          <button type="submit" className="button">
            Apply
          </button>
          {state.filter ? (
            <button
              type="button"
              className="button"
              onClick={() => {
                setFilterText('');
                store.getState().setFilter('');
              }}
            >
              Clear
            </button>
          ) : null}
        </form>
      </div>
      <p id="filter-help" className="hint">
        The filter is the API’s language: <code>=, !=, &lt;, &gt;, contains, in [..]</code>, <code>and</code>,{' '}
        <code>or</code>, <code>not</code>, <code>anyOf(listField)</code>; strings in double quotes.
      </p>

      {page.error ? <ErrorNotice error={page.error} onRetry={reload} /> : null}
      {page.isPending ? <Loading /> : null}
      {page.data && rows.length === 0 ? (
        <Empty
          title={
            filtered
              ? `No ${description.plural.toLowerCase()} match`
              : `No ${description.plural.toLowerCase()} yet`
          }
        >
          {filtered ? (
            'Change the search or the filter.'
          ) : (
            <a href={formatRoute({ page: 'create', collection })}>Create the first one.</a>
          )}
        </Empty>
      ) : null}
      {rows.length > 0 ? (
        <div className="table-wrap" aria-busy={page.isFetching}>
          <table className="table">
            <caption className="visually-hidden">{description.plural}</caption>
            <thead>
              <tr>
                {columns.map((field) => (
                  <th key={field.name} scope="col" aria-sort={ariaSort(field.name)}>
                    {field.sortable ? (
                      <button
                        type="button"
                        className="sort"
                        onClick={() => store.getState().toggleSort(field.name)}
                      >
                        {field.label} {sortIcon(field.name)}
                      </button>
                    ) : (
                      field.label
                    )}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <tr key={row.id}>
                  {columns.map((field, i) => (
                    <td key={field.name} className={field.kind === 'integer' ? 'num' : undefined}>
                      {i === 0 ? (
                        <a href={formatRoute({ page: 'entity', collection, id: row.id })}>
                          {formatCell(field, row[field.name])}
                        </a>
                      ) : (
                        formatCell(field, row[field.name])
                      )}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}

      {page.data ? (
        <nav className="pager" aria-label="Pages">
          <span className="muted">
            {info.from}–{info.to} of {total}
          </span>
          <label>
            <span className="muted">Rows per page </span>
            <select
              value={state.limit}
              onChange={(e) => store.getState().setPageSize(Number(e.target.value))}
            >
              {PAGE_SIZES.map((size) => (
                <option key={size} value={size}>
                  {size}
                </option>
              ))}
            </select>
          </label>
          <button
            type="button"
            className="button small"
            disabled={info.page === 0}
            onClick={() => store.getState().goToPage(info.page - 1, total)}
            aria-label="Previous page"
          >
            <ChevronLeft aria-hidden size={14} />
          </button>
          <span>
            Page {info.page + 1} of {info.pages}
          </span>
          <button
            type="button"
            className="button small"
            disabled={info.page + 1 >= info.pages}
            onClick={() => store.getState().goToPage(info.page + 1, total)}
            aria-label="Next page"
          >
            <ChevronRight aria-hidden size={14} />
          </button>
        </nav>
      ) : null}
    </div>
  );
}
