/**
 * `/metrics`: Prometheus text from a Registry of this server's own (several nodes may share a
 * process in tests). Raft and peer figures are sampled from `replica.status()` at scrape time;
 * HTTP and proposal figures are counted as requests pass. The text passes `promtool check
 * metrics` (test/integration/metrics-promtool.test.ts): `_total` only on counters.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Replica } from '../replication/replica.js';
import type { TransportStats } from '../transport/types.js';

const ROLES = ['follower', 'preCandidate', 'candidate', 'leader'] as const;

export interface ApiMetrics {
  readonly registry: Registry;
  observeRequest(method: string, route: string, status: number, seconds: number): void;
  observeProposal(outcome: string, seconds: number): void;
}

export function createMetrics(
  replica: Replica,
  labels: { node: string; cluster: string },
  transportStats?: () => TransportStats,
): ApiMetrics {
  const registry = new Registry();
  registry.setDefaultLabels(labels);
  collectDefaultMetrics({ register: registry, prefix: 'meshdesk_' });
  renameActiveTotals(registry);

  const sample = (name: string, help: string, read: () => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  const persist = new Histogram({
    name: 'meshdesk_raft_persist_seconds',
    help: 'Time to persist one Raft batch durably (one fsync for the batch)',
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  const apply = new Histogram({
    name: 'meshdesk_model_apply_seconds',
    help: 'Time to apply one run of committed commands to the model (one SQL transaction)',
    buckets: [0.0001, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
    registers: [registry],
  });
  replica.on('timing', ({ kind, seconds }) => (kind === 'persist' ? persist : apply).observe(seconds));
  sample('meshdesk_raft_term', 'Current Raft term', () => replica.status().term);
  sample('meshdesk_raft_commit_index', 'Highest log index known committed', () => replica.status().commit);
  sample('meshdesk_raft_applied_index', 'Highest log index applied to the model', () =>
    replica.appliedIndex(),
  );
  sample('meshdesk_raft_last_index', 'Last log index held', () => replica.status().lastIndex);
  sample(
    'meshdesk_raft_snapshot_index',
    'Index of the newest snapshot',
    () => replica.status().snapshotIndex,
  );
  sample('meshdesk_raft_fsyncs', 'Log fsyncs since start', () => replica.status().fsyncs);
  sample('meshdesk_raft_ready_batches', 'Ready batches handled since start', () => replica.status().batches);
  sample(
    'meshdesk_raft_snapshots_installed',
    'Snapshots installed from a leader since start',
    () => replica.status().snapshotsInstalled,
  );
  new Gauge({
    name: 'meshdesk_raft_role',
    help: 'This node’s Raft role (1 for the current role)',
    labelNames: ['role'],
    registers: [registry],
    collect() {
      const role = replica.status().role as string;
      for (const r of new Set<string>([...ROLES, role])) this.set({ role: r }, r === role ? 1 : 0);
    },
  });
  new Gauge({
    name: 'meshdesk_raft_dropped_messages',
    help: 'Raft messages dropped since start, by reason',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [reason, n] of Object.entries(replica.status().dropped)) this.set({ reason }, n ?? 0);
    },
  });
  if (transportStats) {
    new Gauge({
      name: 'meshdesk_peer_refused_connections',
      help: 'Connections to or from peers this node refused since start, by reason (certificate, identity, not TLS…)',
      labelNames: ['reason'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [reason, n] of Object.entries(transportStats().refusals)) this.set({ reason }, n ?? 0);
      },
    });
  }
  const peerGauge = (name: string, help: string, read: (p: PeerStatus) => number | undefined) =>
    new Gauge({
      name,
      help,
      labelNames: ['peer'],
      registers: [registry],
      collect() {
        this.reset();
        for (const p of replica.status().peers) {
          const value = read(p);
          if (value !== undefined) this.set({ peer: p.id }, value);
        }
      },
    });
  peerGauge('meshdesk_peer_rtt_seconds', 'Round-trip time to the peer', (p) =>
    p.rttMs === undefined ? undefined : p.rttMs / 1000,
  );
  peerGauge('meshdesk_peer_connected', 'Whether the cluster link to the peer is up', (p) =>
    p.connected ? 1 : 0,
  );
  peerGauge('meshdesk_peer_match_index', 'The leader’s match index for the peer', (p) => p.matchIndex);
  peerGauge('meshdesk_peer_last_contact_seconds', 'Time since the peer was last heard from', (p) =>
    p.lastContactMs === undefined ? undefined : p.lastContactMs / 1000,
  );

  const requests = new Counter({
    name: 'meshdesk_http_requests_total',
    help: 'HTTP requests answered, by method, route and status',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'meshdesk_http_request_duration_seconds',
    help: 'HTTP request latency, by method and route',
    labelNames: ['method', 'route'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const proposals = new Counter({
    name: 'meshdesk_proposals_total',
    help: 'Writes proposed through this node, by outcome (ok, a model refusal code, or a replica error code)',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const proposalLatency = new Histogram({
    name: 'meshdesk_proposal_duration_seconds',
    help: 'Time from proposing a write until it applied on this node (commit + apply)',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });

  return {
    registry,
    observeRequest(method, route, status, seconds) {
      requests.inc({ method, route, status: String(status) });
      latency.observe({ method, route }, seconds);
    },
    observeProposal(outcome, seconds) {
      proposals.inc({ outcome });
      proposalLatency.observe(seconds);
    },
  };
}

type PeerStatus = ReturnType<Replica['status']>['peers'][number];

/** prom-client's three `…_total` gauges, by what they count. */
const ACTIVE_TOTALS = {
  handles: 'Active libuv handles of every type together (the sum of meshdesk_nodejs_active_handles)',
  requests: 'Active libuv requests of every type together (the sum of meshdesk_nodejs_active_requests)',
  resources:
    'Resources keeping the event loop alive, of every type together (the sum of meshdesk_nodejs_active_resources)',
} as const;

/**
 * prom-client's default metrics name three gauges `…_active_{handles,requests,resources}_total`,
 * a suffix Prometheus keeps for counters (promtool check metrics refuses them): the same figures,
 * read from those gauges at scrape time, as `…_all`.
 */
function renameActiveTotals(registry: Registry): void {
  for (const [thing, help] of Object.entries(ACTIVE_TOTALS)) {
    const name = `meshdesk_nodejs_active_${thing}_total`;
    const total = registry.getSingleMetric(name);
    if (!total) continue; // a Node without the figure
    registry.removeSingleMetric(name);
    new Gauge({
      name: `meshdesk_nodejs_active_${thing}_all`,
      help,
      registers: [registry],
      async collect() {
        this.set((await total.get()).values[0]?.value ?? 0);
      },
    });
  }
}
