/**
 * One entity: the create form (no id) or the edit form, its raw JSON, and delete. The form is
 * generated from the collection table; the API's field errors land on the fields they name.
 */
import { zodResolver } from '@hookform/resolvers/zod';
import { ArrowLeft, KeyRound, ShieldCheck, Trash2 } from 'lucide-react';
import { useQuery } from '@tanstack/react-query';
import { useMemo, useRef, useState } from 'react';
import { useForm, type Resolver } from 'react-hook-form';
import { ApiError, describeError } from '../api/problem.js';
import type { CollectionName, Entity } from '../api/types.js';
import { ConfirmDialog } from '../components/confirm-dialog.js';
import { FieldInput } from '../components/field-input.js';
import { JsonView } from '../components/json-view.js';
import { ErrorNotice, Loading } from '../components/states.js';
import { describeCollection, entityTitle } from '../model/collections.js';
import {
  changedFields,
  formSchema,
  initialValues,
  type EntityPayload,
  type FormMode,
  type FormValues,
} from '../model/entity-form.js';
import { formatRoute } from '../router/routes.js';
import { RouterEnrollDialog } from './invite-dialog.js';
import { useApp, useCanChange } from '../app-context.js';
import { entityQuery, queryKeys, routerEnrollmentQuery } from '../queries.js';

function newIdempotencyKey(): string {
  return globalThis.crypto.randomUUID();
}

function failureText(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 412)
      return 'Someone changed this since you opened it. Reload to see their version, then edit again.';
    if (error.outcomeUnknown)
      return `${describeError(error)}. The write may still apply; saving again is safe.`;
    if (error.status === 503 || error.status === 429)
      return `${describeError(error)}. Nothing was written; try again.`;
  }
  return describeError(error);
}

interface EntityFormProps {
  readonly collection: CollectionName;
  readonly mode: FormMode;
  readonly entity?: Entity;
  readonly onSaved: (entity: Entity | undefined, raftIndex: number | null) => void;
  readonly onReload?: () => void;
}

function EntityForm({ collection, mode, entity, onSaved, onReload }: EntityFormProps) {
  const { api } = useApp();
  const canChange = useCanChange();
  const description = describeCollection(collection);
  const fieldNames = useMemo(() => new Set(description.fields.map((f) => f.name)), [description]);
  // One key per request: a retry of the same body (after an unknown outcome) reuses it; a changed
  // body is another request and gets a new key (the API refuses a key reused for another body).
  const attempt = useRef<{ readonly key: string; readonly body: string } | null>(null);
  const [failure, setFailure] = useState<{ text: string; fields: string[]; stale: boolean } | null>(null);
  const resolver = useMemo(
    () =>
      zodResolver(formSchema(collection, mode)) as unknown as Resolver<FormValues, unknown, EntityPayload>,
    [collection, mode],
  );
  const {
    register,
    handleSubmit,
    setError,
    watch,
    formState: { errors, isSubmitting, isDirty },
  } = useForm<FormValues, unknown, EntityPayload>({
    resolver,
    defaultValues: initialValues(collection, entity),
  });
  const values = watch();

  const submit = handleSubmit(async (payload) => {
    setFailure(null);
    try {
      if (mode === 'create') {
        const body = JSON.stringify(payload);
        if (attempt.current?.body !== body) attempt.current = { key: newIdempotencyKey(), body };
        const result = await api.create(collection, payload, { idempotencyKey: attempt.current.key });
        attempt.current = null;
        onSaved(result.body, result.raftIndex);
      } else if (entity) {
        const patch = changedFields(entity, payload);
        if (Object.keys(patch).length === 0) {
          onSaved(entity, null);
          return;
        }
        const result = await api.patch(collection, entity.id, patch, {
          ...(entity.revision !== undefined ? { ifRevision: entity.revision } : {}),
        });
        onSaved(result.body, result.raftIndex);
      }
    } catch (error) {
      const unplaced: string[] = [];
      if (error instanceof ApiError) {
        for (const problem of error.fieldErrors) {
          const name = problem.field.split('.')[0] ?? '';
          if (fieldNames.has(name)) setError(name, { type: 'server', message: problem.message });
          else unplaced.push(problem.field ? `${problem.field}: ${problem.message}` : problem.message);
        }
      }
      setFailure({
        text: failureText(error),
        fields: unplaced,
        stale: error instanceof ApiError && error.status === 412,
      });
    }
  });

  return (
    <form className="entity-form" onSubmit={(e) => void submit(e)} noValidate>
      {canChange ? null : (
        <p className="notice" role="status">
          You are signed in read-only: you can look, not change.
        </p>
      )}
      <fieldset className="form-grid" disabled={!canChange}>
        {description.fields.map((field) => (
          <FieldInput
            key={field.name}
            field={field}
            mode={mode}
            register={register}
            error={errors[field.name]}
            value={values[field.name]}
          />
        ))}
      </fieldset>
      {failure ? (
        <div className="state state-error" role="alert">
          <div className="grow">
            <div>{failure.text}</div>
            {failure.fields.length > 0 ? (
              <ul className="field-problems">
                {failure.fields.map((text) => (
                  <li key={text}>{text}</li>
                ))}
              </ul>
            ) : null}
          </div>
          {failure.stale && onReload ? (
            <button type="button" className="button" onClick={onReload}>
              Reload
            </button>
          ) : null}
        </div>
      ) : null}
      {canChange ? (
        <div className="form-actions">
          <button
            type="submit"
            className="button primary"
            disabled={isSubmitting || (mode === 'edit' && !isDirty)}
          >
            {isSubmitting
              ? 'Saving…'
              : mode === 'create'
                ? `Create ${description.singular.toLowerCase()}`
                : 'Save changes'}
          </button>
          <a className="button" href={formatRoute({ page: 'collection', collection })}>
            Cancel
          </a>
        </div>
      ) : null}
    </form>
  );
}

export function EntityPage({ collection, id }: { collection: CollectionName; id?: string }) {
  const { api, queryClient } = useApp();
  const canChange = useCanChange();
  const description = describeCollection(collection);
  const [tab, setTab] = useState<'form' | 'json'>('form');
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [enrolling, setEnrolling] = useState(false);
  const [saved, setSaved] = useState<string | null>(null);
  const [version, setVersion] = useState(0);
  const entity = useQuery({ ...entityQuery(api, collection, id ?? ''), enabled: id !== undefined });
  // The entity the form edits: the one the page opened on, then only what this page's own save
  // answered (its fields and revision) or a reload. Events keep the cache fresh, but a later
  // write by someone else must not slip under the admin's typing or lend its revision to a save.
  const [opened, setOpened] = useState<Entity | null>(null);
  if (opened === null && entity.data) setOpened(entity.data);
  const backHref = formatRoute({ page: 'collection', collection });
  const listsChanged = () => void queryClient.invalidateQueries({ queryKey: queryKeys.lists(collection) });

  if (id === undefined) {
    return (
      <div className="page">
        <a className="back" href={backHref}>
          <ArrowLeft aria-hidden size={14} /> {description.plural}
        </a>
        <h1>New {description.singular.toLowerCase()}</h1>
        <EntityForm
          collection={collection}
          mode="create"
          onSaved={() => {
            listsChanged();
            window.location.hash = backHref;
          }}
        />
      </div>
    );
  }

  const current = opened ?? entity.data;
  const newerOnNode = entity.data !== undefined && current?.revision !== entity.data.revision;
  const reload = async () => {
    const fresh = await entity.refetch();
    if (fresh.data) setOpened(fresh.data);
    setVersion((v) => v + 1);
  };
  const title = current ? entityTitle(collection, current) : id;
  const checkAccess =
    collection === 'identities'
      ? formatRoute({ page: 'policy-advisor', identity: id })
      : collection === 'services'
        ? formatRoute({ page: 'policy-advisor', service: id })
        : null;

  return (
    <div className="page">
      <a className="back" href={backHref}>
        <ArrowLeft aria-hidden size={14} /> {description.plural}
      </a>
      <div className="page-header">
        <h1>
          {description.singular}: {title}
        </h1>
        <div className="actions">
          {checkAccess ? (
            <a className="button" href={checkAccess}>
              <ShieldCheck aria-hidden size={14} /> Check access
            </a>
          ) : null}
          {canChange && collection === 'routers' && current && current.disabled !== true ? (
            <button type="button" className="button" onClick={() => setEnrolling(true)}>
              <KeyRound aria-hidden size={14} /> Enroll
            </button>
          ) : null}
          {canChange ? (
            <button
              type="button"
              className="button danger"
              onClick={() => setConfirmDelete(true)}
              disabled={!current}
            >
              <Trash2 aria-hidden size={14} /> Delete
            </button>
          ) : null}
        </div>
      </div>
      {current ? (
        <p className="muted small mono">
          id {current.id}
          {current.revision !== undefined ? ` · revision ${current.revision}` : ''}
          {current.updatedAt ? ` · updated ${new Date(current.updatedAt).toLocaleString()}` : ''}
        </p>
      ) : null}
      {collection === 'routers' ? <RouterEnrollmentLine routerId={id} /> : null}
      {saved ? (
        <p className="success-text" role="status">
          {saved}
        </p>
      ) : null}
      {newerOnNode ? (
        <p className="notice" role="status">
          This {description.singular.toLowerCase()} has changed since you opened it.{' '}
          <button type="button" className="button small" onClick={() => void reload()}>
            Show the newer version
          </button>
        </p>
      ) : null}
      {entity.error ? <ErrorNotice error={entity.error} onRetry={() => void entity.refetch()} /> : null}
      {entity.isPending && !current ? <Loading /> : null}
      {current ? (
        <>
          <div className="segmented" role="group" aria-label="View">
            <button type="button" aria-pressed={tab === 'form'} onClick={() => setTab('form')}>
              {canChange ? 'Edit' : 'Details'}
            </button>
            <button type="button" aria-pressed={tab === 'json'} onClick={() => setTab('json')}>
              Raw JSON
            </button>
          </div>
          {tab === 'form' ? (
            <EntityForm
              key={`${current.id}/${current.revision ?? ''}/${version}`}
              collection={collection}
              mode="edit"
              entity={current}
              onReload={() => void reload()}
              onSaved={(body, raftIndex) => {
                setSaved(raftIndex === null ? 'Nothing changed.' : `Saved (Raft index ${raftIndex}).`);
                if (body && raftIndex !== null) {
                  queryClient.setQueryData(queryKeys.entity(collection, id), body);
                  setOpened(body);
                  listsChanged();
                }
              }}
            />
          ) : (
            <JsonView value={current} />
          )}
        </>
      ) : null}
      <ConfirmDialog
        open={confirmDelete}
        title={`Delete ${description.singular.toLowerCase()}`}
        confirmLabel="Delete"
        onClose={() => setConfirmDelete(false)}
        onConfirm={async () => {
          await api.remove(
            collection,
            id,
            current?.revision !== undefined ? { ifRevision: current.revision } : undefined,
          );
          queryClient.removeQueries({ queryKey: queryKeys.entity(collection, id) });
          listsChanged();
          window.location.hash = backHref;
        }}
      >
        <p>
          Delete <strong>{title}</strong>? This cannot be undone. Policies that name it with <code>@id</code>{' '}
          stop matching it.
        </p>
      </ConfirmDialog>
      {collection === 'routers' && current ? (
        <RouterEnrollDialog
          open={enrolling}
          onClose={() => setEnrolling(false)}
          onMinted={() => void queryClient.invalidateQueries({ queryKey: queryKeys.routerEnrollment(id) })}
          router={{ id, name: title }}
        />
      ) : null}
    </div>
  );
}

/** Whether a router holds a good certificate: the one it enrolled for, none once disabled. */
function RouterEnrollmentLine(props: { routerId: string }) {
  const { api } = useApp();
  const state = useQuery(routerEnrollmentQuery(api, props.routerId));
  if (!state.data) return null;
  const { certificate, pendingTokens } = state.data;
  const pending = pendingTokens > 0 ? ` · ${pendingTokens} enrollment token(s) not used yet` : '';
  return (
    <p className="small" data-testid="router-enrollment">
      {certificate
        ? `Enrolled: its certificate expires ${new Date(certificate.expiresAt).toLocaleString()}${pending}`
        : `Not enrolled: it has no certificate (Enroll makes a one-time token for it)${pending}`}
    </p>
  );
}
