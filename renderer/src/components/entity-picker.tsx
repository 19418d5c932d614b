/** Picks one entity of a collection by searching its title field; the value is the entity's id. */
import { useQuery } from '@tanstack/react-query';
import { useEffect, useId, useState } from 'react';
import type { CollectionName } from '../api/types.js';
import { describeCollection, entityTitle } from '../model/collections.js';
import { filterString } from '../model/list-query.js';
import { useApp } from '../app-context.js';
import { entityListQuery, entityQuery } from '../queries.js';

interface EntityPickerProps {
  readonly collection: CollectionName;
  readonly label: string;
  readonly value: string;
  readonly onChange: (id: string) => void;
}

export function EntityPicker({ collection, label, value, onChange }: EntityPickerProps) {
  const { api } = useApp();
  const id = useId();
  const description = describeCollection(collection);
  const [search, setSearch] = useState('');
  const [term, setTerm] = useState('');
  useEffect(() => {
    const timer = window.setTimeout(() => setTerm(search.trim()), 250);
    return () => window.clearTimeout(timer);
  }, [search]);
  const filter = term ? `${description.searchField} contains ${filterString(term)}` : '';
  const options = useQuery(
    entityListQuery(api, collection, { limit: 100, filter, sort: description.defaultSort }),
  );
  // The chosen entity stays listed even when the search no longer matches it.
  const selected = useQuery({ ...entityQuery(api, collection, value), enabled: value !== '' });
  const rows = options.data?.data ?? [];
  const list =
    selected.data && !rows.some((r) => r.id === selected.data?.id) ? [selected.data, ...rows] : rows;
  return (
    <fieldset className="picker">
      <legend>{label}</legend>
      <label className="visually-hidden" htmlFor={`${id}-search`}>
        Search {description.plural.toLowerCase()}
      </label>
      <input
        id={`${id}-search`}
        type="search"
        placeholder={`Search ${description.plural.toLowerCase()}`}
        value={search}
        onChange={(e) => setSearch(e.target.value)}
      />
      <label className="visually-hidden" htmlFor={`${id}-select`}>
        {label}
      </label>
      <select id={`${id}-select`} size={6} value={value} onChange={(e) => onChange(e.target.value)}>
        {list.map((entity) => (
          <option key={entity.id} value={entity.id}>
            {entityTitle(collection, entity)}
          </option>
        ))}
      </select>
      <span className="hint">
        {options.error
          ? 'Could not load the list.'
          : options.data
            ? `${options.data.meta.total} match${options.data.meta.total === 1 ? '' : 'es'}${options.data.meta.total > rows.length ? `; showing ${rows.length}` : ''}`
            : 'Loading…'}
      </span>
    </fieldset>
  );
}
