/**
 * The runtime: the routers connected to this node, the link table and the circuits of the whole
 * cluster (each with its owner), with circuits made and torn down by hand. Runtime data lives in
 * memory on each controller; runtime events make the view stale, and a poll is the fallback.
 */
import { Plus, RefreshCw, Trash2 } from 'lucide-react';
import { useQuery } from '@tanstack/react-query';
import { useId, useState, type FormEvent } from 'react';
import { ApiError, describeError } from '../api/problem.js';
import type { Circuit, CreatedCircuit, RuntimeStatus } from '../api/types.js';
import { ConfirmDialog } from '../components/confirm-dialog.js';
import { SummaryList } from '../components/summary-list.js';
import { Empty, ErrorNotice, Loading } from '../components/states.js';
import { NONE } from '../model/format.js';
import { formatRoute } from '../router/routes.js';
import { useApp, useCanChange } from '../app-context.js';
import { isNoRuntime, withoutCircuit, type RuntimeView } from '../model/runtime.js';
import { entityListQuery, queryKeys, runtimeQuery } from '../queries.js';

function formatTime(value: string): string {
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? value : date.toLocaleString();
}

function Summary({ status, unreachable }: { status: RuntimeStatus; unreachable: number }) {
  const items: [string, string][] = [
    ['This controller', status.controller],
    ['Routers connected', String(status.routers.length)],
    ['Links', String(status.links)],
    ['Circuits owned here', String(status.circuits)],
    ['Reroutes', String(status.reroutes)],
    ['Messages dropped', String(status.droppedTotal)],
    ['Refused handshakes', String(status.refusedHandshakes)],
    ['Router sessions cut', String(status.sessionsCut)],
  ];
  if (unreachable > 0) items.push(['Members not answering', String(unreachable)]);
  return <SummaryList items={items} />;
}

/** A refusal from the API: its title and detail, and the code that names the reason. */
function ProblemNotice({ error }: { error: unknown }) {
  const code = error instanceof ApiError ? error.problem.code : undefined;
  return (
    <div className="state state-error" role="alert">
      <div className="grow">
        <div>{describeError(error)}</div>
        {code ? <div className="mono small">{code}</div> : null}
      </div>
    </div>
  );
}

function CreateCircuitForm({ routers, onCreated }: { routers: readonly string[]; onCreated: () => void }) {
  const { api } = useApp();
  const id = useId();
  const [identity, setIdentity] = useState('');
  const [service, setService] = useState('');
  const [ingress, setIngress] = useState('');
  const [missing, setMissing] = useState<readonly string[]>([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [created, setCreated] = useState<CreatedCircuit | null>(null);
  const identities = useQuery(entityListQuery(api, 'identities', { limit: 100, sort: 'name' }));
  const services = useQuery(entityListQuery(api, 'services', { limit: 100, sort: 'name' }));

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const values = { identity: identity.trim(), service: service.trim(), ingressRouter: ingress.trim() };
    const empty = Object.entries(values)
      .filter(([, v]) => v === '')
      .map(([k]) => k);
    setMissing(empty);
    setCreated(null);
    setError(null);
    if (empty.length > 0) return;
    setBusy(true);
    try {
      const result = await api.createCircuit(values);
      // The answer is the router protocol's circuit (names, not the view's ids): the reload shows it.
      setCreated(result.body);
      onCreated();
    } catch (cause) {
      setError(cause);
    } finally {
      setBusy(false);
    }
  };

  const field = (
    name: 'identity' | 'service' | 'ingressRouter',
    label: string,
    value: string,
    set: (v: string) => void,
    options: readonly string[],
  ) => {
    const invalid = missing.includes(name);
    return (
      <div className="field">
        <label htmlFor={`${id}-${name}`}>{label}</label>
        <input
          id={`${id}-${name}`}
          list={`${id}-${name}-options`}
          value={value}
          autoComplete="off"
          aria-invalid={invalid ? true : undefined}
          aria-describedby={invalid ? `${id}-${name}-error` : undefined}
          onChange={(e) => set(e.target.value)}
        />
        <datalist id={`${id}-${name}-options`}>
          {options.map((o) => (
            <option key={o} value={o} />
          ))}
        </datalist>
        {invalid ? (
          <span id={`${id}-${name}-error`} className="error-text">
            Required
          </span>
        ) : null}
      </div>
    );
  };

  const names = (page: typeof identities.data) =>
    (page?.data ?? []).map((e) => (typeof e.name === 'string' ? e.name : e.id));

  return (
    <form
      className="card runtime-form"
      onSubmit={(e) => void submit(e)}
      noValidate
      aria-labelledby={`${id}-title`}
    >
      <h2 id={`${id}-title`}>Create a circuit</h2>
      <p className="muted">
        The ingress router is asked to dial, through its most responsive controller. Names or ids.
      </p>
      <div className="form-grid">
        {field('identity', 'Identity', identity, setIdentity, names(identities.data))}
        {field('service', 'Service', service, setService, names(services.data))}
        {field('ingressRouter', 'Ingress router', ingress, setIngress, routers)}
      </div>
      {error ? <ProblemNotice error={error} /> : null}
      {created ? (
        <p className="success-text" role="status">
          Created circuit <span className="mono">{created.id}</span> over {created.routers.join(' → ')}.
        </p>
      ) : null}
      <div className="form-actions">
        <button type="submit" className="button primary" disabled={busy}>
          <Plus aria-hidden size={14} /> {busy ? 'Creating…' : 'Create circuit'}
        </button>
      </div>
    </form>
  );
}

export function RuntimePage() {
  const { api, queryClient } = useApp();
  const canChange = useCanChange();
  const runtime = useQuery(runtimeQuery(api));
  const [deleting, setDeleting] = useState<Circuit | null>(null);
  const [message, setMessage] = useState<string | null>(null);

  const refresh = () => void runtime.refetch();
  // After a write here: whatever is in flight answered before it.
  const changed = () => void queryClient.invalidateQueries({ queryKey: queryKeys.runtime });

  const { error } = runtime;
  const noRuntime = isNoRuntime(error);
  const status = runtime.data?.status ?? null;
  const links = runtime.data?.links ?? null;
  const circuits = runtime.data?.circuits ?? null;
  const unreachable = runtime.data?.unreachable ?? [];
  const names = runtime.data?.names ?? {};
  const loaded = status !== null;
  const name = (id: string) => names[id] ?? id;

  return (
    <div className="page">
      <div className="page-header">
        <h1>Runtime</h1>
        <div className="actions">
          <button type="button" className="button" onClick={refresh} disabled={runtime.isFetching}>
            <RefreshCw aria-hidden size={14} /> Refresh
          </button>
        </div>
      </div>
      <p className="muted">
        Routers, links and circuits live in memory on each controller and are not replicated. Routers and
        links are as this node sees them; circuits are those of every member that answers.
      </p>
      {message ? (
        <p className="success-text" role="status">
          {message}
        </p>
      ) : null}
      {noRuntime ? (
        <p className="notice" role="status">
          This node runs without runtime data: it has no router channel.
        </p>
      ) : error ? (
        <ErrorNotice error={error} onRetry={refresh} />
      ) : null}
      {!loaded && !error ? <Loading label="Loading the runtime…" /> : null}
      {unreachable.length > 0 ? (
        <p className="notice" role="status">
          Members that did not answer: <span className="mono">{unreachable.join(', ')}</span>. Their circuits
          are not listed.
        </p>
      ) : null}
      {status ? <Summary status={status} unreachable={unreachable.length} /> : null}

      {status ? (
        <section aria-labelledby="runtime-routers">
          <h2 id="runtime-routers">Connected routers</h2>
          {status.routers.length === 0 ? (
            <Empty title="No routers connected to this node">
              Enroll one of the{' '}
              <a href={formatRoute({ page: 'collection', collection: 'routers' })}>routers</a> from its page
              (Enroll), then run <code>meshdesk router enroll TOKEN --out router.json</code> and{' '}
              <code>meshdesk router --identity router.json</code> on its machine.
            </Empty>
          ) : (
            <div className="table-wrap">
              <table className="table">
                <caption className="visually-hidden">Connected routers</caption>
                <thead>
                  <tr>
                    <th scope="col">Router</th>
                    <th scope="col">Listen address</th>
                    <th scope="col">Certificate</th>
                    <th scope="col">Connected since</th>
                  </tr>
                </thead>
                <tbody>
                  {status.routers.map((r) => (
                    <tr key={r.id}>
                      <td>
                        <a href={formatRoute({ page: 'entity', collection: 'routers', id: r.id })}>
                          {r.name}
                        </a>
                        <div className="muted mono small">{r.id}</div>
                      </td>
                      <td className="mono small">{r.listen ?? NONE}</td>
                      <td className="mono small" title={`serial ${r.certificateSerial}`}>
                        {r.certificateSerial.slice(0, 16)}
                      </td>
                      <td>{formatTime(r.connectedSince)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </section>
      ) : null}

      {links ? (
        <section aria-labelledby="runtime-links">
          <h2 id="runtime-links">Links</h2>
          {links.length === 0 ? (
            <Empty title="No links">Links appear once two routers with listen addresses are connected.</Empty>
          ) : (
            <div className="table-wrap">
              <table className="table">
                <caption className="visually-hidden">Links</caption>
                <thead>
                  <tr>
                    <th scope="col">Dialer → acceptor</th>
                    <th scope="col" className="num">
                      Latency
                    </th>
                    <th scope="col">Reported by</th>
                    <th scope="col">Link</th>
                  </tr>
                </thead>
                <tbody>
                  {links.map((l) => (
                    <tr key={l.id}>
                      <td>
                        {l.dialerName} → {l.acceptorName}
                      </td>
                      <td className="num">
                        {Number.isFinite(l.latencyMs) ? `${l.latencyMs.toFixed(1)} ms` : NONE}
                      </td>
                      <td>{l.reportedBy.length === 2 ? 'both ends' : `${l.reportedBy.length} end`}</td>
                      <td className="mono small">{l.id}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </section>
      ) : null}

      {circuits ? (
        <section aria-labelledby="runtime-circuits">
          <h2 id="runtime-circuits">Circuits</h2>
          {circuits.length === 0 ? (
            <Empty title="No circuits">
              {unreachable.length > 0
                ? 'None among the members that answered.'
                : 'A circuit appears when an identity dials a service through a router, or from the form below.'}
            </Empty>
          ) : (
            <div className="table-wrap">
              <table className="table">
                <caption className="visually-hidden">Circuits</caption>
                <thead>
                  <tr>
                    <th scope="col">Identity</th>
                    <th scope="col">Service</th>
                    <th scope="col">Path</th>
                    <th scope="col">Owner</th>
                    <th scope="col" className="num">
                      Reroutes
                    </th>
                    <th scope="col">Created</th>
                    <th scope="col">
                      <span className="visually-hidden">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {circuits.map((c) => (
                    <tr key={c.id}>
                      <td>
                        <a href={formatRoute({ page: 'entity', collection: 'identities', id: c.identityId })}>
                          {name(c.identityId)}
                        </a>
                      </td>
                      <td>
                        <a href={formatRoute({ page: 'entity', collection: 'services', id: c.serviceId })}>
                          {name(c.serviceId)}
                        </a>
                      </td>
                      <td>
                        {c.routerNames.join(' → ')}
                        <div className="muted mono small">{c.id}</div>
                      </td>
                      <td>{c.ownerName || c.owner}</td>
                      <td className="num">{c.reroutes}</td>
                      <td>{formatTime(c.createdAt)}</td>
                      <td className="row-actions">
                        {canChange ? (
                          <button
                            type="button"
                            className="button small danger"
                            onClick={() => setDeleting(c)}
                            aria-label={`Delete circuit ${c.id}`}
                          >
                            <Trash2 aria-hidden size={14} /> Delete
                          </button>
                        ) : null}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </section>
      ) : null}

      {loaded && canChange ? (
        <CreateCircuitForm routers={status.routers.map((r) => r.name)} onCreated={changed} />
      ) : null}

      <ConfirmDialog
        open={deleting !== null}
        title="Delete circuit"
        confirmLabel="Delete circuit"
        onClose={() => setDeleting(null)}
        onConfirm={async () => {
          if (!deleting) return;
          setMessage(null);
          await api.deleteCircuit(deleting.id);
          const id = deleting.id;
          queryClient.setQueryData<RuntimeView>(queryKeys.runtime, (view) => withoutCircuit(view, id));
          setMessage(`Deleted circuit ${id}.`);
          changed();
        }}
      >
        {deleting ? (
          <p>
            Tear down circuit <span className="mono">{deleting.id}</span> ({name(deleting.identityId)} →{' '}
            {name(deleting.serviceId)} over {deleting.routerNames.join(' → ')})? Its owner,{' '}
            {deleting.ownerName || deleting.owner}, removes its routes from every router on the path.
          </p>
        ) : null}
      </ConfirmDialog>
    </div>
  );
}
