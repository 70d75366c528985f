import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { type ActionObservers, configuredActions } from './actions/configured.ts';
import { harvestMarkers } from './actions/harvest-markers.ts';
import type { MarkersAction } from './actions/markers.ts';
import { scanLimits } from './actions/middleware-purge.ts';
import { type PurgeIndexObserver, ServerPurgeIndex } from './actions/purge-index.ts';
import { ServerRecovery } from './actions/server-recovery.ts';
import { configuredSources } from './adapters/configured-sources.ts';
import { startHttpServer } from './adapters/http/server.ts';
import {
  type ListingModeObserver,
  type MemcachedConnector,
  memcachedConnector,
} from './adapters/memcached/servers.ts';
import type { Config } from './config/load.ts';
import { RecentIds } from './core/recent-ids.ts';
import { reportInsecureEndpoints } from './observability/insecure-endpoints.ts';
import { ItemLines } from './observability/item-lines.ts';
import type { Logger } from './observability/logger.ts';
import { Metrics } from './observability/metrics.ts';
import { throttled } from './observability/throttle.ts';
import { Coalescer, type InvalidationRunner } from './pipeline/coalescer.ts';
import { Processor } from './pipeline/processor.ts';
import type { Action } from './ports/action.ts';
import type { CacheServer } from './ports/cache-server.ts';
import type { Replayable } from './ports/replayable.ts';
import { BackgroundTasks } from './util/background-tasks.ts';
import { errorMessage } from './util/errors.ts';

export interface Daemon {
  readonly httpAddress: AddressInfo;
  /**
   * The SIGTERM path, in order and under one deadline (`shutdown.graceMs`): not ready at once; sources
   * stop taking work; in-flight items settle; the actions release what is left (it is delivered again)
   * and the background tasks end; then every connection closes.
   */
  stop(): Promise<void>;
}

/** Long enough to outlive any probe stall; short enough that a dead replica's sentinel goes away. */
const SENTINEL_TTL_SECONDS = 600;
/** One retry warning per action per interval, however many lanes retry (the rest are counted). */
const RETRY_LOG_INTERVAL_MS = 1_000;
/** What closing connections and ending background tasks may take once the grace period is spent. */
const CLOSE_MS = 2_000;

/** An action behind its coalescer, retrying failed writes with the memcached backoff. */
function coalesced<Item>(
  action: Action<Item>,
  config: Config,
  metrics: Metrics,
  logger: Logger,
): Coalescer<Item> {
  const log = logger.child({ component: action.name });
  const warn = throttled(RETRY_LOG_INTERVAL_MS, (suppressed, error: unknown, attempt: number) => {
    const causes = error instanceof AggregateError ? error.errors.map(errorMessage) : undefined;
    log.warn(
      { error: errorMessage(error), causes, attempt, suppressed },
      'invalidation not written everywhere; retrying',
    );
  });
  const stats = {
    requested: (n: number) => metrics.itemsRequested.add(n, action.name),
    written: (n: number) => metrics.itemsWritten.add(n, action.name),
  };
  return new Coalescer(action, config.memcached.retry, warn, stats);
}

/** Every action reports to the metrics (and the purge's warnings to the log). */
function observers(metrics: Metrics, logger: Logger): ActionObservers {
  const log = logger.child({ component: 'middlewarePurge' });
  const failed = (action: string) => (_item: unknown, server: string) =>
    metrics.writeFailures.inc({ server, action });
  return {
    markers: {
      applied: (t) => metrics.invalidations.count(t.kind, 'markers'),
      failed: failed('markers'),
    },
    keystoneRegions: {
      applied: (region) => metrics.regionResets.inc({ region }),
      failed: failed('keystoneRegions'),
    },
    middlewarePurge: {
      looked: (server, how) => metrics.purgeIndex.purges.inc({ server, how }),
      scanned: (server, keys, seconds, listing) => {
        metrics.scanDuration.observe({ server }, seconds);
        metrics.keysScanned.inc(keys);
        if (!listing.complete) {
          metrics.incompleteScans.inc();
          log.warn(
            { server, truncated: listing.truncated === true },
            listing.truncated === true
              ? 'the server holds more keys than middlewarePurge.scanMaxKeys; purged the first listed'
              : 'metadump ended without END; purged what it listed',
          );
        }
      },
      deleted: (_server, reason, count) => metrics.entriesDeleted.inc({ reason }, count),
      failed: (server) => metrics.writeFailures.inc({ server, action: 'middlewarePurge' }),
    },
  };
}

/**
 * Per server, the index of keystonemiddleware's cached validations that a targeted purge looks up
 * (middlewarePurge.index). Connections of their own: a build reads every cached value, which must
 * not queue in front of marker writes.
 */
function purgeIndexes(
  config: Config,
  connect: MemcachedConnector,
  metrics: Metrics,
  logger: Logger,
): Map<string, ServerPurgeIndex> {
  const purge = config.middlewarePurge;
  if (!purge.enabled || !purge.index.enabled) return new Map();
  const log = logger.child({ component: 'purgeIndex' });
  const m = metrics.purgeIndex;
  const observer: PurgeIndexObserver = {
    trusted: (server, entries, seconds) => {
      m.builds.observe({ server }, seconds);
      log.info(
        { server, entries, seconds: Math.round(seconds * 100) / 100 },
        'purge index built: purges use it',
      );
    },
    distrusted: (server, reason) => {
      m.distrusted.inc({ server, reason });
      log.warn({ server, reason }, 'purge index untrusted: purges scan until it is rebuilt');
    },
    skipped: (server, lines) => m.skippedLines.inc({ server }, lines),
    failed: (server, error, unsupported) => {
      m.failures.inc({ server, unsupported: String(unsupported) });
      log.warn(
        { server, error: errorMessage(error), unsupported },
        unsupported
          ? 'no purge index on this server (no watchers or listings: memcached < 1.6, or a proxy); purges scan it'
          : 'cannot build the purge index; purges scan until it is built',
      );
    },
  };
  const settings = {
    keyPrefix: purge.keyPrefix,
    fencePrefix: `${config.markers.prefix}:fence:${randomUUID()}:`,
    maxEntries: purge.index.maxEntries,
    reconcileEveryMs: purge.index.reconcileIntervalSeconds * 1000,
    heartbeatMs: purge.index.heartbeatMs,
    fenceTimeoutMs: purge.index.fenceTimeoutMs,
    readBatchSize: purge.index.readBatchSize,
    // One key past the ceiling is enough to know the index cannot hold the server.
    listing: { ...scanLimits(purge), maxKeys: purge.index.maxEntries + 1 },
    retry: config.memcached.retry,
  };
  const indexes = connect().map((s) => new ServerPurgeIndex(s, settings, observer));
  m.observe(() => indexes.map((i) => ({ server: i.name, entries: i.entries, trusted: i.trusted })));
  return new Map(indexes.map((i) => [i.name, i]));
}

/** Old servers walk the LRU for a listing, which misses entries read meanwhile: worth a warning. */
function listingModeWarning(logger: Logger): ListingModeObserver {
  const log = logger.child({ component: 'memcached' });
  return (server, mode, version) => {
    if (mode === 'all') {
      log.warn(
        { server, version },
        'memcached < 1.6.9 has no "metadump hash": "all" can miss entries being read',
      );
    }
  };
}

function serverRecovery(
  servers: readonly CacheServer[],
  replayables: readonly Replayable[],
  markers: MarkersAction,
  indexes: ReadonlyMap<string, ServerPurgeIndex>,
  config: Config,
  metrics: Metrics,
  logger: Logger,
): ServerRecovery {
  const log = logger.child({ component: 'recovery' });
  const settings = {
    sentinelKey: `${config.markers.prefix}:alive:${randomUUID()}`,
    sentinelTtlSeconds: SENTINEL_TTL_SECONDS,
  };
  return new ServerRecovery(servers, replayables, markers, settings, {
    wiped: (server) => {
      metrics.wipes.inc({ server });
      indexes.get(server)?.distrust('wiped');
      log.warn(
        { server },
        'memcached server lost its data (restart, flush or eviction); re-asserting markers',
      );
    },
    replayed: (server, action, items) => {
      metrics.replays.inc({ action, outcome: 'done' });
      if (action !== 'markers') log.info({ server, action, items }, 'replayed what the server missed');
    },
    replayFailed: (server, action, error) => {
      metrics.replays.inc({ action, outcome: 'failed' });
      log.warn({ server, action, error: errorMessage(error) }, 'replay failed; retrying at the next probe');
    },
    readBack: (server, found) => {
      if (typeof found === 'number') log.info({ server, markers: found }, 'read back live markers');
      else
        log.warn({ server, error: found.message }, 'cannot read back markers (metadump); none re-asserted');
    },
  });
}

/** Builds the pipeline from the config and starts it. Wiring only: behaviour lives in the parts. */
export async function startDaemon(config: Config, logger: Logger, version: string): Promise<Daemon> {
  const now = () => Date.now();
  const metrics = new Metrics(version);
  reportInsecureEndpoints(config, metrics.registry, logger);
  const connect = memcachedConnector(config);
  const servers = connect(listingModeWarning(logger));
  const indexes = purgeIndexes(config, connect, metrics, logger);
  const { markers, all: actions } = configuredActions(
    config,
    servers,
    now,
    observers(metrics, logger),
    indexes,
  );
  const runners: InvalidationRunner[] = actions.map((action) => coalesced(action, config, metrics, logger));
  const recovery = serverRecovery(servers, actions, markers, indexes, config, metrics, logger);
  const processorLog = logger.child({ component: 'processor' });
  const itemLines = new ItemLines(processorLog, config.log.itemLinesPerSecond);
  const processor = new Processor({
    runners,
    recentIds: new RecentIds(config.processing.dedupeWindow),
    metrics,
    logger: processorLog,
    itemLines,
    now,
  });
  const sources = configuredSources(config, logger, metrics.revocations);
  if (config.revocations.enabled) metrics.revocations.started();
  const background = new BackgroundTasks((task, error) =>
    logger.warn({ task, error: errorMessage(error) }, 'background task failed; it runs again on schedule'),
  );
  const consuming = () => sources.every((s) => !s.gatesReadiness || s.isTaking());

  let stopping = false;
  metrics.observe(() => ({
    consuming: consuming(),
    servers: servers.map((s) => [s.name, s.up] as const),
    replayPending: servers.flatMap((s) => actions.map((a) => [s.name, a.name, a.pending(s.name)] as const)),
    liveMarkers: markers.liveCount,
  }));
  // The HTTP port is the likeliest start-up failure (in use): bind it before any socket is opened, so a
  // failed start leaves nothing behind that would keep the process alive.
  const http = await startHttpServer(
    config.http.host,
    config.http.port,
    { checks: () => ({ consuming: consuming(), memcached: servers.some((s) => s.up), running: !stopping }) },
    metrics.registry,
  );
  // The first probe before anything is taken: readiness and the write path start from known states.
  await recovery.probe(background.signal);
  background.every('probe', config.memcached.probeIntervalMs, (signal) => recovery.probe(signal));
  const reassertMs = config.markers.reassertIntervalSeconds * 1000;
  if (reassertMs > 0) background.every('re-assertion', reassertMs, () => recovery.reassertEverywhere());
  for (const source of sources) source.start(processor.handle, processor.fillGap);
  const harvest = {
    prefix: config.markers.prefix,
    ttlSeconds: config.markers.ttlSeconds,
    clockSkewMarginMs: config.markers.clockSkewMarginMs,
    limits: scanLimits(config.middlewarePurge),
  };
  const found = {
    remember: markers.remember.bind(markers),
    ignored: (reason: string) => metrics.markersIgnored.inc({ reason }),
  };
  for (const index of indexes.values()) background.run(`purge index ${index.name}`, (s) => index.run(s));
  background.run('read-back', (signal) =>
    recovery.readBack((server, s) => harvestMarkers(server, harvest, found, now(), s), signal),
  );
  logger.info(
    { pool: config.amqp.pool, servers: servers.map((s) => s.name), http: http.address.port },
    'keystone-cache-invalidator started',
  );

  return {
    httpAddress: http.address,
    async stop() {
      const deadline = Date.now() + config.shutdown.graceMs;
      stopping = true;
      await Promise.all(sources.map((s) => s.stopTaking(deadline)));
      await Promise.all(sources.map((s) => s.drain(deadline)));
      for (const runner of runners) runner.stop();
      itemLines.flush();
      await background.stop(Math.max(deadline, Date.now() + CLOSE_MS));
      await Promise.all(sources.map((s) => s.close()));
      for (const server of servers) server.close();
      for (const index of indexes.values()) index.close();
      await new Promise<void>((resolve) => http.server.close(() => resolve()));
      logger.info('stopped');
    },
  };
}
