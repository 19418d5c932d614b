/**
 * The Cluster page's trust sections: the join tokens (state, expiry, who used them; revoke one
 * not yet used) and the cluster CA (its fingerprint, and the certificate to download so that a
 * browser or another machine can verify this cluster's HTTPS).
 */
import { Ban, Download } from 'lucide-react';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import type { Invitation } from '../api/types.js';
import { useApp, useCanChange } from '../app-context.js';
import { ConfirmDialog } from '../components/confirm-dialog.js';
import { ErrorNotice, Loading } from '../components/states.js';
import { clusterCaQuery, invitationsQuery, queryKeys } from '../queries.js';

function when(iso: string | null): string {
  return iso ? new Date(iso).toLocaleString() : '–';
}

export function JoinTokens() {
  const { api, queryClient } = useApp();
  const canChange = useCanChange();
  const { data, error, refetch } = useQuery(invitationsQuery(api));
  const [revoking, setRevoking] = useState<Invitation | null>(null);

  return (
    <section aria-labelledby="join-tokens-title">
      <h2 id="join-tokens-title">Join tokens</h2>
      {error ? <ErrorNotice error={error} onRetry={() => void refetch()} /> : null}
      {!data && !error ? <Loading label="Loading join tokens…" /> : null}
      {data && data.length === 0 ? (
        <p className="muted">No join tokens yet: “Invite a member” makes one.</p>
      ) : null}
      {data && data.length > 0 ? (
        <div className="table-wrap">
          <table className="table">
            <caption className="visually-hidden">Join tokens</caption>
            <thead>
              <tr>
                <th scope="col">Token</th>
                <th scope="col">State</th>
                <th scope="col">Created</th>
                <th scope="col">Expires</th>
                <th scope="col">Used by</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {data.map((i) => (
                <tr key={i.id}>
                  <td className="mono small">{i.id}</td>
                  <td>
                    <span className={`pill pill-${i.state}`}>{i.state}</span>
                  </td>
                  <td>{when(i.createdAt)}</td>
                  <td>{when(i.expiresAt)}</td>
                  <td className="mono small">{i.usedBy ?? '–'}</td>
                  <td className="row-actions">
                    {i.state === 'pending' && canChange ? (
                      <button
                        type="button"
                        className="button small danger"
                        onClick={() => setRevoking(i)}
                        aria-label={`Revoke join token ${i.id}`}
                      >
                        <Ban aria-hidden size={14} /> Revoke
                      </button>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <ConfirmDialog
        open={revoking !== null}
        title="Revoke join token"
        confirmLabel="Revoke token"
        onClose={() => setRevoking(null)}
        onConfirm={async () => {
          if (!revoking) return;
          await api.revokeInvitation(revoking.id);
          await queryClient.invalidateQueries({ queryKey: queryKeys.invitations });
        }}
      >
        <p>
          Revoke join token <strong className="mono">{revoking?.id}</strong>? No node can join with it
          afterwards; a node that already joined with another token is not affected.
        </p>
      </ConfirmDialog>
    </section>
  );
}

export function ClusterCaPanel() {
  const { api } = useApp();
  const { data, error, refetch } = useQuery(clusterCaQuery(api));

  const download = () => {
    if (!data) return;
    const url = URL.createObjectURL(new Blob([data.certificate], { type: 'application/x-pem-file' }));
    const link = document.createElement('a');
    link.href = url;
    link.download = 'meshdesk-cluster-ca.pem';
    link.click();
    URL.revokeObjectURL(url);
  };

  return (
    <section aria-labelledby="cluster-ca-title">
      <h2 id="cluster-ca-title">Cluster CA</h2>
      {error ? <ErrorNotice error={error} onRetry={() => void refetch()} /> : null}
      {data ? (
        <>
          <p>
            Every node’s certificate comes from this CA. Trust it in your browser or operating system to reach
            nodes on other machines over HTTPS without warnings (the README says how), and compare its
            fingerprint with the one a member’s console shows (<code>meshdesk cluster ca</code>).
          </p>
          <p>
            SHA-256 fingerprint:{' '}
            <code className="mono small" data-testid="ca-fingerprint">
              {data.fingerprint}
            </code>
          </p>
          <button type="button" className="button" onClick={download}>
            <Download aria-hidden size={14} /> Download CA certificate
          </button>
        </>
      ) : null}
      {!data && !error ? <Loading label="Loading the cluster CA…" /> : null}
    </section>
  );
}
