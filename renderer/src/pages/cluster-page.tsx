/**
 * The cluster: its members as this node sees them, refreshed by cluster events and a short poll
 * (last contact changes continuously), with the membership operations. One query
 * (`queryKeys.cluster`) holds the view, so an answer to an older request never replaces a newer one.
 */
import { Camera, Crown, Info, Plus, RefreshCw, Trash2, TriangleAlert, UserPlus } from 'lucide-react';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { describeError } from '../api/problem.js';
import type { ClusterView } from '../api/types.js';
import { ConfirmDialog } from '../components/confirm-dialog.js';
import { SummaryList } from '../components/summary-list.js';
import { JsonView } from '../components/json-view.js';
import { ErrorNotice, Loading } from '../components/states.js';
import { useApp, useCanChange } from '../app-context.js';
import { clusterQuery, queryKeys } from '../queries.js';
import { faultTolerance, faultToleranceNotice, memberRows, type MemberRow } from '../stores/cluster.js';
import { AddMemberDialog } from './add-member-dialog.js';
import { ClusterCaPanel, JoinTokens } from './cluster-trust.js';
import { InviteDialog } from './invite-dialog.js';

function formatContact(ms: number | null): string {
  if (ms === null) return 'never';
  if (ms < 1000) return `${ms} ms ago`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s ago`;
  return `${Math.round(ms / 60_000)} min ago`;
}

type PendingAction =
  | { readonly kind: 'remove'; readonly member: MemberRow }
  | { readonly kind: 'transfer'; readonly member: MemberRow | null };

function Summary({ view }: { view: ClusterView }) {
  const leader = view.members.find((m) => m.id === view.leaderId);
  const items: [string, string][] = [
    ['Cluster', view.clusterId],
    ['Leader', leader ? leader.name || leader.id : view.leaderId || 'none'],
    ['Term', String(view.term)],
    ['Commit index', String(view.commitIndex)],
  ];
  if (view.appliedIndex !== undefined) items.push(['Applied here', String(view.appliedIndex)]);
  const self = view.members.find((m) => m.id === view.nodeId);
  if (view.nodeId) items.push(['This node', self?.name || view.nodeId]);
  const { spare } = faultTolerance(view);
  items.push([
    'Tolerates',
    spare < 0 ? 'no failure: no quorum' : `${spare} failure${spare === 1 ? '' : 's'}`,
  ]);
  return <SummaryList items={items} />;
}

/** Lost quorum, or one failure away from it, said where the members are. */
function FaultToleranceNotice({ view }: { view: ClusterView }) {
  const notice = faultToleranceNotice(faultTolerance(view));
  if (!notice) return null;
  const className =
    notice.level === 'error'
      ? 'banner banner-error'
      : notice.level === 'warning'
        ? 'banner banner-warn'
        : 'notice';
  const Icon = notice.level === 'info' ? Info : TriangleAlert;
  return (
    <div className={className} role={notice.level === 'info' ? 'note' : 'alert'}>
      <Icon aria-hidden size={16} />
      <span>{notice.text}</span>
    </div>
  );
}

export function ClusterPage() {
  const { api, queryClient } = useApp();
  const canChange = useCanChange();
  const { data: view, error, refetch } = useQuery(clusterQuery(api));
  const [pending, setPending] = useState<PendingAction | null>(null);
  const [adding, setAdding] = useState(false);
  const [inviting, setInviting] = useState(false);
  const [message, setMessage] = useState<{ text: string; error: boolean } | null>(null);
  const [showJson, setShowJson] = useState(false);

  const refresh = () => void refetch();
  // After a membership change: whatever is in flight answered before it.
  const changed = () => void queryClient.invalidateQueries({ queryKey: queryKeys.cluster });

  const run = async (label: string, action: () => Promise<unknown>) => {
    setMessage(null);
    try {
      await action();
      setMessage({ text: label, error: false });
      changed();
    } catch (cause) {
      setMessage({ text: describeError(cause), error: true });
      throw cause;
    }
  };

  const rows = view ? memberRows(view) : [];

  return (
    <div className="page">
      <div className="page-header">
        <h1>Cluster</h1>
        <div className="actions">
          <button type="button" className="button" onClick={refresh}>
            <RefreshCw aria-hidden size={14} /> Refresh
          </button>
          {canChange ? (
            <>
              <button type="button" className="button primary" onClick={() => setInviting(true)}>
                <UserPlus aria-hidden size={14} /> Invite a member
              </button>
              <button type="button" className="button" onClick={() => setAdding(true)}>
                <Plus aria-hidden size={14} /> Add member
              </button>
              <button
                type="button"
                className="button"
                onClick={() => setPending({ kind: 'transfer', member: null })}
              >
                <Crown aria-hidden size={14} /> Transfer leadership
              </button>
              <button
                type="button"
                className="button"
                onClick={() => void run('Snapshot taken.', () => api.snapshot()).catch(() => undefined)}
              >
                <Camera aria-hidden size={14} /> Snapshot
              </button>
            </>
          ) : null}
        </div>
      </div>
      {message ? (
        <p className={message.error ? 'error-text' : 'success-text'} role="status">
          {message.text}
        </p>
      ) : null}
      {error ? <ErrorNotice error={error} onRetry={refresh} /> : null}
      {!view && !error ? <Loading label="Loading the cluster…" /> : null}
      {view ? (
        <>
          <Summary view={view} />
          <FaultToleranceNotice view={view} />
          <div className="table-wrap">
            <table className="table">
              <caption className="visually-hidden">Cluster members</caption>
              <thead>
                <tr>
                  <th scope="col">Member</th>
                  <th scope="col">Role and state</th>
                  <th scope="col">Address</th>
                  <th
                    scope="col"
                    className="num"
                    title="The leader's match index for the member, or this node's own applied index"
                  >
                    Index
                  </th>
                  <th scope="col" className="num" title="Entries behind the commit index">
                    Lag
                  </th>
                  <th scope="col">Last contact</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {rows.map((m) => (
                  <tr key={m.id}>
                    <td>
                      <div>{m.name || m.id}</div>
                      <div className="muted mono small">{m.id}</div>
                    </td>
                    <td className="nowrap">
                      <span className={`pill pill-${m.role}`}>{m.role}</span>
                      <div className="small">
                        <span className={m.reachable ? 'dot dot-ok' : 'dot dot-bad'} aria-hidden />
                        {m.reachable ? 'up' : 'unreachable'}
                      </div>
                    </td>
                    <td className="mono small">
                      {m.address}
                      {m.apiUrl ? <div className="muted">{m.apiUrl}</div> : null}
                    </td>
                    <td className="num">{m.matchIndex ?? m.appliedIndex ?? '–'}</td>
                    <td className="num">{m.lag ?? '–'}</td>
                    <td className="nowrap">{formatContact(m.lastContactMs)}</td>
                    <td className="row-actions">
                      {canChange && !m.leader && m.voter ? (
                        <button
                          type="button"
                          className="button small"
                          onClick={() => setPending({ kind: 'transfer', member: m })}
                          aria-label={`Make ${m.name || m.id} the leader`}
                          // Leadership can only move to a member that is up: say so, do not wait 10 s.
                          disabled={!m.reachable}
                          title={
                            m.reachable
                              ? `Make ${m.name || m.id} the leader`
                              : `${m.name || m.id} is unreachable: it cannot lead now`
                          }
                        >
                          <Crown aria-hidden size={14} />
                        </button>
                      ) : null}
                      {canChange ? (
                        <button
                          type="button"
                          className="button small danger"
                          onClick={() => setPending({ kind: 'remove', member: m })}
                          aria-label={`Remove ${m.name || m.id}`}
                          title={`Remove ${m.name || m.id} from the cluster`}
                        >
                          <Trash2 aria-hidden size={14} />
                        </button>
                      ) : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <button
            type="button"
            className="button small link"
            onClick={() => setShowJson((s) => !s)}
            aria-expanded={showJson}
          >
            {showJson ? 'Hide raw JSON' : 'Show raw JSON'}
          </button>
          {showJson ? <JsonView value={view} /> : null}
        </>
      ) : null}
      <JoinTokens />
      <ClusterCaPanel />

      <ConfirmDialog
        open={pending?.kind === 'remove'}
        title="Remove member"
        confirmLabel="Remove member"
        onClose={() => setPending(null)}
        onConfirm={async () => {
          if (pending?.kind !== 'remove') return;
          const m = pending.member;
          await run(`Removed ${m.name || m.id}.`, () => api.removeMember(m.id));
        }}
      >
        {pending?.kind === 'remove' ? (
          <p>
            Remove <strong>{pending.member.name || pending.member.id}</strong> ({pending.member.address}) from
            the cluster? It stops receiving the log; with fewer voters the cluster tolerates fewer failures.
            Its certificates are revoked: it can come back only by joining afresh, with a new data directory.
            {pending.member.leader ? ' It is the leader: the cluster elects another one first.' : ''}
          </p>
        ) : null}
      </ConfirmDialog>
      <ConfirmDialog
        open={pending?.kind === 'transfer'}
        title="Transfer leadership"
        confirmLabel="Transfer leadership"
        onClose={() => setPending(null)}
        onConfirm={async () => {
          if (pending?.kind !== 'transfer') return;
          const to = pending.member?.id;
          await run('Leadership transferred.', () => api.transferLeadership(to));
        }}
      >
        {pending?.kind === 'transfer' ? (
          <p>
            {pending.member
              ? `Make ${pending.member.name || pending.member.id} the leader?`
              : 'Hand leadership to the most caught-up voter?'}{' '}
            Writes pause for a moment while it changes hands.
          </p>
        ) : null}
      </ConfirmDialog>
      <InviteDialog
        open={inviting}
        onClose={() => setInviting(false)}
        onInvited={() => void queryClient.invalidateQueries({ queryKey: queryKeys.invitations })}
      />
      <AddMemberDialog
        open={adding}
        onClose={() => setAdding(false)}
        onAdded={(id) => {
          setMessage({ text: `Added member ${id}.`, error: false });
          changed();
        }}
      />
    </div>
  );
}
