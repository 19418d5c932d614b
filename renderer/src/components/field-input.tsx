/** One form input, chosen by the field's kind from the collection table. */
import { useQuery } from '@tanstack/react-query';
import { useEffect, useId, useState } from 'react';
import type { FieldError, UseFormRegister } from 'react-hook-form';
import type { CollectionName } from '../api/types.js';
import { describeCollection, entityTitle, type FieldDescription } from '../model/collections.js';
import { filterString } from '../model/list-query.js';
import { isOptional, type FormMode, type FormValues } from '../model/entity-form.js';
import { useApp } from '../app-context.js';
import { entityListQuery } from '../queries.js';

interface FieldInputProps {
  readonly field: FieldDescription;
  readonly mode: FormMode;
  readonly register: UseFormRegister<FormValues>;
  readonly error: FieldError | undefined;
  /** The field's current text, for `ref` suggestions. */
  readonly value: string | boolean | undefined;
}

const listHints: Partial<Record<FieldDescription['kind'], string>> = {
  roles: '#attribute, @id or #all, separated by commas',
  attributes: 'names separated by commas',
  refs: 'ids separated by commas',
};

/** Suggestions for an id field: entities of the referenced collection whose title matches. */
function RefSuggestions({
  id,
  collection,
  typed,
}: {
  id: string;
  collection: CollectionName;
  typed: string;
}) {
  const { api } = useApp();
  const [term, setTerm] = useState(typed);
  useEffect(() => {
    const timer = window.setTimeout(() => setTerm(typed), 250);
    return () => window.clearTimeout(timer);
  }, [typed]);
  const description = describeCollection(collection);
  const filter = term.trim()
    ? `${description.searchField} contains ${filterString(term.trim())} or id = ${filterString(term.trim())}`
    : '';
  const options = useQuery(entityListQuery(api, collection, { limit: 50, filter }));
  return (
    <datalist id={id}>
      {(options.data?.data ?? []).map((entity) => (
        <option key={entity.id} value={entity.id} label={entityTitle(collection, entity)} />
      ))}
    </datalist>
  );
}

export function FieldInput({ field, mode, register, error, value }: FieldInputProps) {
  const id = useId();
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const hint =
    field.kind === 'password' && mode === 'create'
      ? `At least ${field.min ?? 1} characters. The node stores only a hash.`
      : (field.help ?? listHints[field.kind]);
  const describedBy = [hint ? hintId : null, error ? errorId : null].filter(Boolean).join(' ') || undefined;
  const common = {
    id,
    'aria-invalid': error ? true : undefined,
    'aria-describedby': describedBy,
    ...register(field.name),
  };

  let input;
  switch (field.kind) {
    case 'boolean':
      return (
        <div className="field">
          <label className="check" htmlFor={id}>
            <input type="checkbox" {...common} />
            <span>{field.label}</span>
          </label>
          {hint ? (
            <span id={hintId} className="hint">
              {hint}
            </span>
          ) : null}
          {error ? (
            <span id={errorId} className="error-text">
              {error.message}
            </span>
          ) : null}
        </div>
      );
    case 'enum':
      input = (
        <select {...common}>
          {field.options?.map((option) => (
            <option key={option} value={option}>
              {option}
            </option>
          ))}
        </select>
      );
      break;
    case 'json':
      input = <textarea className="mono" rows={5} spellCheck={false} {...common} />;
      break;
    case 'integer':
      input = <input inputMode="numeric" {...common} />;
      break;
    case 'password':
      input = <input type="password" autoComplete="new-password" {...common} />;
      break;
    case 'ref':
      input = (
        <>
          <input className="mono" list={`${id}-options`} autoComplete="off" {...common} />
          {field.ref ? (
            <RefSuggestions
              id={`${id}-options`}
              collection={field.ref}
              typed={typeof value === 'string' ? value : ''}
            />
          ) : null}
        </>
      );
      break;
    default:
      input = <input autoComplete="off" spellCheck={false} {...common} />;
  }
  return (
    <div className="field">
      <label htmlFor={id}>
        {field.label}
        {isOptional(field, mode) ? <span className="muted"> (optional)</span> : null}
      </label>
      {input}
      {hint ? (
        <span id={hintId} className="hint">
          {hint}
        </span>
      ) : null}
      {error ? (
        <span id={errorId} className="error-text" role="alert">
          {error.message}
        </span>
      ) : null}
    </div>
  );
}
