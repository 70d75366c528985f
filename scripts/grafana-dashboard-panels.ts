// The panels of the Grafana dashboard (scripts/grafana-dashboard.ts lays them out and writes the JSON):
// what an operator looks at, row by row, one PromQL expression per line. Every metric named here is
// checked against a live /metrics scrape by test/integration/prometheus-live.test.ts.

/** Every query filters on the dashboard's `job` variable (one release, or all of them). */
const JOB = '{job=~"$job"}';
const sel = (metric: string, matchers = '') =>
  matchers ? `${metric}{job=~"$job",${matchers}}` : `${metric}${JOB}`;
const rate = (metric: string, matchers = '') => `rate(${sel(metric, matchers)}[$__rate_interval])`;
const increase = (metric: string) => `increase(${sel(metric)}[$__rate_interval])`;
const quantile = (q: number, histogram: string, by = 'le') =>
  `histogram_quantile(${q}, sum by (${by}) (${rate(`${histogram}_bucket`)}))`;

export interface Target {
  readonly expr: string;
  readonly legend: string;
}
export interface Panel {
  readonly title: string;
  readonly description: string;
  readonly unit: string;
  readonly targets: readonly Target[];
}
export interface Row {
  readonly title: string;
  readonly panels: readonly Panel[];
}

const t = (expr: string, legend: string): Target => ({ expr, legend });
const lagQuantiles = (histogram: string, by: string, legend: string) =>
  [0.5, 0.9, 0.99].map((q) => t(quantile(q, histogram, by), `p${q * 100}${legend}`));

export const ROWS: readonly Row[] = [
  {
    title: 'Invalidations',
    panels: [
      {
        title: 'Notifications settled by outcome',
        description: 'applied, ignored (no target), duplicate, parked; revocation events included.',
        unit: 'ops',
        targets: [t(`sum by (outcome) (${rate('kci_notifications_total')})`, '{{outcome}}')],
      },
      {
        title: 'Invalidations by target kind',
        description: 'Marker targets once a server holds them (the others are owed them).',
        unit: 'ops',
        targets: [t(`sum by (kind) (${rate('kci_invalidations_total')})`, '{{kind}}')],
      },
      {
        title: 'Received by event type',
        description: 'Items taken from the sources, by Keystone event type.',
        unit: 'ops',
        targets: [t(`sum by (event_type) (${rate('kci_notifications_received_total')})`, '{{event_type}}')],
      },
      {
        title: 'Publish → applied lag',
        description: "From Keystone's notification timestamp to written everywhere (KciInvalidationLagHigh).",
        unit: 's',
        targets: lagQuantiles('kci_notification_lag_seconds', 'le', ''),
      },
      {
        title: 'Parked notifications by reason',
        description: 'Never applied: each parked Keystone event is an invalidation that did not happen.',
        unit: 'short',
        targets: [t(`sum by (reason) (${increase('kci_notifications_parked_total')})`, '{{reason}}')],
      },
      {
        title: 'Gaps by reason',
        description: 'Notifications may have been missed: a global invalidation was written (KciGap).',
        unit: 'short',
        targets: [t(`sum by (reason) (${increase('kci_gaps_total')})`, '{{reason}}')],
      },
      {
        title: 'Coalescing ratio by action',
        description: 'Items asked for per item written: 1 without bursts, above 1 when writes are shared.',
        unit: 'short',
        targets: [
          t(
            `sum by (action) (${rate('kci_coalescer_items_requested_total')}) / sum by (action) (${rate('kci_coalescer_items_written_total')})`,
            '{{action}}',
          ),
        ],
      },
    ],
  },
  {
    title: 'memcached servers',
    panels: [
      {
        title: 'Server up',
        description: '1 when the server answered every replica; 0 when one replica cannot reach it.',
        unit: 'short',
        targets: [t(`min by (server) (${sel('kci_memcached_server_up')})`, '{{server}}')],
      },
      {
        title: 'Replay backlog',
        description: 'Items a server missed while away and is still owed, by action.',
        unit: 'short',
        targets: [t(`max by (server, action) (${sel('kci_replay_pending_items')})`, '{{server}} {{action}}')],
      },
      {
        title: 'Replays by action and outcome',
        description: 'What returning servers were given (markers: every live marker).',
        unit: 'ops',
        targets: [t(`sum by (action, outcome) (${rate('kci_replays_total')})`, '{{action}} {{outcome}}')],
      },
      {
        title: 'Write failures',
        description: 'Writes a server failed, by action; replayed or retried.',
        unit: 'ops',
        targets: [
          t(
            `sum by (server, action) (${rate('kci_memcached_write_failures_total')})`,
            '{{server}} {{action}}',
          ),
        ],
      },
      {
        title: 'Wipes',
        description: "A server found without the daemon's sentinel (restart, flush, eviction).",
        unit: 'short',
        targets: [t(`sum by (server) (${increase('kci_memcached_wipes_total')})`, '{{server}}')],
      },
      {
        title: 'Live markers',
        description: 'Markers within their TTL, what a wiped server is given again.',
        unit: 'short',
        targets: [t(`sum by (instance) (${sel('kci_live_markers')})`, '{{instance}}')],
      },
    ],
  },
  {
    title: 'Purge (keystonemiddleware)',
    panels: [
      {
        title: 'Key listing duration by server',
        description: "lru_crawler metadump of one server's keys, for a scan (KciPurgeScanSlow).",
        unit: 's',
        targets: lagQuantiles('kci_middleware_scan_duration_seconds', 'le, server', ' {{server}}'),
      },
      {
        title: 'Purge index build duration by server',
        description: 'Listing and reading every cached validation of a server to (re)build its index.',
        unit: 's',
        targets: [t(quantile(0.99, 'kci_purge_index_build_seconds', 'le, server'), 'p99 {{server}}')],
      },
      {
        title: 'Purges by how',
        description: 'index: the server index was trusted; scan: every key listed and read.',
        unit: 'ops',
        targets: [t(`sum by (how) (${rate('kci_middleware_purges_total')})`, '{{how}}')],
      },
      {
        title: 'Entries deleted by reason',
        description: 'matched, unreadable (strategy ENCRYPT), global.',
        unit: 'ops',
        targets: [t(`sum by (reason) (${rate('kci_middleware_entries_deleted_total')})`, '{{reason}}')],
      },
      {
        title: 'Purge index trusted',
        description: '0: purges on that server scan until the index is rebuilt (KciPurgeIndexUntrusted).',
        unit: 'short',
        targets: [t(`min by (server) (${sel('kci_purge_index_trusted')})`, '{{server}}')],
      },
      {
        title: 'Purge index entries',
        description: 'Cached validations indexed per server; about 1.5 KB of RSS each.',
        unit: 'short',
        targets: [t(`max by (server) (${sel('kci_purge_index_entries')})`, '{{server}}')],
      },
    ],
  },
  {
    title: 'Sources',
    panels: [
      {
        title: 'Broker consuming',
        description: '1 while a replica has a consumer on the pool queue (KciNotConsuming).',
        unit: 'short',
        targets: [t(`max by (instance) (${sel('kci_broker_consuming')})`, '{{instance}}')],
      },
      {
        title: 'Revocation polls by outcome',
        description: 'Polls of GET /v3/OS-REVOKE/events; anything but ok needs a look.',
        unit: 'ops',
        targets: [t(`sum by (outcome) (${rate('kci_revocation_polls_total')})`, '{{outcome}}')],
      },
      {
        title: 'Revocation poll age',
        description: 'Seconds since the last successful poll, per replica (KciRevocationPollerStale).',
        unit: 's',
        targets: [t(`max by (instance) (${sel('kci_revocation_poll_age_seconds')})`, '{{instance}}')],
      },
      {
        title: 'Revocation poll duration and events',
        description: "Mean time per poll (Keystone's cost) and revocation events applied.",
        unit: 's',
        targets: [
          t(
            `sum(${rate('kci_revocation_poll_duration_seconds_sum')}) / sum(${rate('kci_revocation_poll_duration_seconds_count')})`,
            'mean poll',
          ),
          t(`sum(${rate('kci_revocation_events_total')})`, 'events/s'),
        ],
      },
    ],
  },
  {
    title: 'Process',
    panels: [
      {
        title: 'Resident memory',
        description: "RSS per replica; the chart's limit is 256 MiB by default (KciMemoryHigh).",
        unit: 'bytes',
        targets: [t(`max by (instance) (${sel('process_resident_memory_bytes')})`, '{{instance}}')],
      },
      {
        title: 'Event-loop delay',
        description: 'p99 and mean event-loop lag per replica: CPU saturation or a blocking task.',
        unit: 's',
        targets: [
          t(`max by (instance) (${sel('nodejs_eventloop_lag_p99_seconds')})`, 'p99 {{instance}}'),
          t(`max by (instance) (${sel('nodejs_eventloop_lag_mean_seconds')})`, 'mean {{instance}}'),
        ],
      },
      {
        title: 'CPU',
        description: 'CPU seconds per second, per replica.',
        unit: 'short',
        targets: [t(`sum by (instance) (${rate('process_cpu_seconds_total')})`, '{{instance}}')],
      },
      {
        title: 'Versions',
        description: 'Replicas per version (KciVersionSkew).',
        unit: 'short',
        targets: [t(`count by (version) (${sel('kci_build_info')})`, '{{version}}')],
      },
      {
        title: 'Insecure endpoints',
        description:
          'Endpoints the configuration lets through unprotected: plaintext off loopback (allowPlaintext) or TLS without certificate checks (KciInsecureEndpoints).',
        unit: 'short',
        targets: [t(`max by (kind, reason) (${sel('kci_insecure_endpoints')})`, '{{kind}} {{reason}}')],
      },
      {
        title: 'Markers ignored at read-back',
        description:
          'Values under the marker prefix that are no v1 marker, or dated too far ahead: never spread.',
        unit: 'short',
        targets: [t(`sum by (reason) (${increase('kci_markers_ignored_total')})`, '{{reason}}')],
      },
    ],
  },
];
