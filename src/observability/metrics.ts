import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { PurgeIndexMetrics } from './purge-index-metrics.ts';
import { RevocationMetrics } from './revocation-metrics.ts';
import { TalliedCounter } from './tallied-counter.ts';

// Event types get a label of their own only from this bounded set; everything else is `other`, so a
// publisher cannot blow up the series count. Never an id, token or credential as a label.
const KNOWN_EVENT_TYPES = new Set([
  'identity.user.created',
  'identity.user.updated',
  'identity.user.deleted',
  'identity.user.disabled',
  'identity.group.created',
  'identity.group.updated',
  'identity.group.deleted',
  'identity.project.created',
  'identity.project.updated',
  'identity.project.deleted',
  'identity.project.disabled',
  'identity.domain.created',
  'identity.domain.updated',
  'identity.domain.deleted',
  'identity.domain.disabled',
  'identity.role.created',
  'identity.role.updated',
  'identity.role.deleted',
  'identity.role_assignment.created',
  'identity.role_assignment.deleted',
  'identity.OS-TRUST:trust.created',
  'identity.OS-TRUST:trust.deleted',
  'identity.OS-OAUTH1:consumer.deleted',
  'identity.OS-OAUTH1:access_token.deleted',
  'identity.application_credential.created',
  'identity.application_credential.deleted',
  'identity.identity_provider.deleted',
  'identity.identity_provider.disabled',
  'identity.authenticate',
  // A Keystone revocation event (the OS-REVOKE poller), not a notification.
  'revocation',
]);

/** `unparseable` (no event type could be read) passes through too. */
export function eventTypeLabel(eventType: string): string {
  return KNOWN_EVENT_TYPES.has(eventType) || eventType === 'unparseable' ? eventType : 'other';
}

export interface LiveState {
  readonly consuming: boolean;
  readonly servers: ReadonlyArray<readonly [name: string, up: boolean]>;
  /** Items each server still has to be given, per action. */
  readonly replayPending: ReadonlyArray<readonly [server: string, action: string, items: number]>;
  readonly liveMarkers: number;
}

/** Every metric the daemon exports, on a registry of its own (prom-client's global one is shared). */
export class Metrics {
  #state: (() => LiveState) | null = null;
  readonly registry = new Registry();
  readonly received: TalliedCounter<'event_type' | 'source'>;
  readonly outcomes: TalliedCounter<'outcome' | 'source'>;
  readonly parked: TalliedCounter<'reason' | 'source'>;
  readonly invalidations: TalliedCounter<'kind' | 'action'>;
  readonly writeFailures: Counter<'server' | 'action'>;
  readonly regionResets: Counter<'region'>;
  readonly gaps: Counter<'reason'>;
  readonly scanDuration: Histogram<'server'>;
  readonly keysScanned: Counter;
  readonly entriesDeleted: Counter<'reason'>;
  readonly incompleteScans: Counter;
  readonly brokerConnected: Gauge;
  readonly memcachedUp: Gauge<'server'>;
  readonly lag: Histogram;
  readonly replays: Counter<'action' | 'outcome'>;
  readonly itemsRequested: TalliedCounter<'action'>;
  readonly itemsWritten: TalliedCounter<'action'>;
  readonly wipes: Counter<'server'>;
  readonly markersIgnored: Counter<'reason'>;
  readonly revocations: RevocationMetrics;
  readonly purgeIndex: PurgeIndexMetrics;

  constructor(version: string) {
    const registers = [this.registry];
    this.received = new TalliedCounter({
      name: 'kci_notifications_received_total',
      help: 'Items taken from a source (notifications, revocation events), by event type (a bounded set, else "other"; "unparseable" when unreadable) and source (amqp091, amqp10, revocations).',
      labelNames: ['event_type', 'source'],
      registers,
    });
    this.outcomes = new TalliedCounter({
      name: 'kci_notifications_total',
      help: 'Items settled, by outcome (applied, ignored: no target, duplicate, parked) and source.',
      labelNames: ['outcome', 'source'],
      registers,
    });
    this.parked = new TalliedCounter({
      name: 'kci_notifications_parked_total',
      help: 'Items that can never be applied, rejected (to the dead-letter exchange where there is one), by reason and source.',
      labelNames: ['reason', 'source'],
      registers,
    });
    this.invalidations = new TalliedCounter({
      name: 'kci_invalidations_total',
      help: 'Invalidation targets applied (on one server at least; the others are owed them), by target kind and action.',
      labelNames: ['kind', 'action'],
      registers,
    });
    this.gaps = new Counter({
      name: 'kci_gaps_total',
      help: 'Times notifications may have been lost before reaching the daemon (a global invalidation followed), by reason.',
      labelNames: ['reason'],
      registers,
    });
    this.regionResets = new Counter({
      name: 'kci_keystone_region_resets_total',
      help: 'Keystone cache regions reset (region-id key deleted on every server), by region name.',
      labelNames: ['region'],
      registers,
    });
    this.scanDuration = new Histogram({
      name: 'kci_middleware_scan_duration_seconds',
      help: 'Time to list the keys of one memcached server (lru_crawler metadump) for a purge, by server.',
      labelNames: ['server'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120],
      registers,
    });
    this.keysScanned = new Counter({
      name: 'kci_middleware_keys_scanned_total',
      help: 'keystonemiddleware cache entries (tokens/*) examined by purges, over all servers.',
      registers,
    });
    this.entriesDeleted = new Counter({
      name: 'kci_middleware_entries_deleted_total',
      help: 'keystonemiddleware cache entries deleted, by reason: matched, unreadable (ENCRYPT), global.',
      labelNames: ['reason'],
      registers,
    });
    this.incompleteScans = new Counter({
      name: 'kci_middleware_scans_incomplete_total',
      help: 'Key listings that ended by silence instead of END (memcached#667); the entries seen were purged.',
      registers,
    });
    this.writeFailures = new Counter({
      name: 'kci_memcached_write_failures_total',
      help: 'Writes a memcached server failed (each is replayed or retried), by server and action.',
      labelNames: ['server', 'action'],
      registers,
    });
    const metrics = this;
    this.brokerConnected = new Gauge({
      name: 'kci_broker_consuming',
      help: '1 while a consumer is registered on the pool queue, else 0.',
      registers,
      collect() {
        const state = metrics.#state?.();
        if (state) this.set(state.consuming ? 1 : 0);
      },
    });
    this.memcachedUp = new Gauge({
      name: 'kci_memcached_server_up',
      help: '1 when the server answered its last request, else 0.',
      labelNames: ['server'],
      registers,
      collect() {
        for (const [server, up] of metrics.#state?.().servers ?? []) this.set({ server }, up ? 1 : 0);
      },
    });
    this.lag = new Histogram({
      name: 'kci_notification_lag_seconds',
      help: 'Time from the notification timestamp (publisher clock) to its invalidation being written.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers,
    });
    this.replays = new Counter({
      name: 'kci_replays_total',
      help: 'Replays to a memcached server of what it missed (or, for markers, every live marker), by action and outcome.',
      labelNames: ['action', 'outcome'],
      registers,
    });
    this.itemsRequested = new TalliedCounter({
      name: 'kci_coalescer_items_requested_total',
      help: 'Items (markers, region keys, purge targets) notifications asked an action for; divided by kci_coalescer_items_written_total it is the coalescing ratio.',
      labelNames: ['action'],
      registers,
    });
    this.itemsWritten = new TalliedCounter({
      name: 'kci_coalescer_items_written_total',
      help: 'Items an action actually applied: one write answers every request that joined its batch.',
      labelNames: ['action'],
      registers,
    });
    this.wipes = new Counter({
      name: 'kci_memcached_wipes_total',
      help: "Times a server was found without the daemon's sentinel (restarted, flushed, evicting): live markers re-asserted.",
      labelNames: ['server'],
      registers,
    });
    this.markersIgnored = new Counter({
      name: 'kci_markers_ignored_total',
      help: 'Values read back under the marker prefix and not re-asserted, by reason: not-a-marker, too-far-ahead.',
      labelNames: ['reason'],
      registers,
    });
    new Gauge({
      name: 'kci_replay_pending_items',
      help: 'Items a memcached server missed and is still to be given, by server and action.',
      labelNames: ['server', 'action'],
      registers,
      collect() {
        for (const [server, action, items] of metrics.#state?.().replayPending ?? [])
          this.set({ server, action }, items);
      },
    });
    new Gauge({
      name: 'kci_live_markers',
      help: 'Markers written within their TTL, remembered for re-assertion.',
      registers,
      collect() {
        const state = metrics.#state?.();
        if (state) this.set(state.liveMarkers);
      },
    });
    new Gauge({
      name: 'kci_build_info',
      help: 'Build information; always 1.',
      labelNames: ['version'],
      registers,
    }).set({ version }, 1);
    this.revocations = new RevocationMetrics(this.registry);
    this.purgeIndex = new PurgeIndexMetrics(this.registry);
    collectDefaultMetrics({ register: this.registry });
  }

  /** Where the state gauges read from at scrape time. */
  observe(state: () => LiveState): void {
    this.#state = state;
  }
}
