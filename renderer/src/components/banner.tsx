/** The node's state at the top of every page: unreachable, starting, or without a leader. */
import { CloudOff, Hourglass, ServerCrash } from 'lucide-react';
import { useApp, useSelect } from '../app-context.js';

export function NodeBanner() {
  const { cluster } = useApp();
  const status = useSelect(cluster, (s) => s.status);
  const detail = useSelect(cluster, (s) => s.statusDetail);
  if (status === 'unreachable') {
    return (
      <div className="banner banner-error" role="alert">
        <CloudOff aria-hidden size={16} />
        <span>
          <strong>The node is unreachable.</strong> Showing what was last loaded; retrying.
          {detail ? <span className="muted"> ({detail})</span> : null}
        </span>
      </div>
    );
  }
  if (status === 'starting') {
    return (
      <div className="banner banner-warn" role="status">
        <Hourglass aria-hidden size={16} />
        <span>
          <strong>The node is still starting.</strong> It is creating its first admin or catching up with the
          cluster; checking again.
        </span>
      </div>
    );
  }
  if (status === 'no-leader') {
    return (
      <div className="banner banner-warn" role="alert">
        <ServerCrash aria-hidden size={16} />
        <span>
          <strong>The cluster has no leader.</strong> Reads work; writes wait until a quorum of members elects
          one.
        </span>
      </div>
    );
  }
  return null;
}
