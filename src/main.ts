import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { type ActionObservers, configuredActions } from './actions/configured.ts';
import { harvestMarkers } from './actions/harvest-markers.ts';
import type { MarkersAction } from './actions/markers.ts';
import { ServerRecovery } from './actions/server-recovery.ts';
import { Amqp091Source } from './adapters/amqp091/source.ts';
import { startHttpServer } from './adapters/http/server.ts';
import { MemcachedServers } from './adapters/memcached/servers.ts';
import type { Config } from './config/load.ts';
import { RecentIds } from './core/recent-ids.ts';
import type { Logger } from './observability/logger.ts';
import { Metrics } from './observability/metrics.ts';
import { throttled } from './observability/throttle.ts';
import { Coalescer, type InvalidationRunner } from './pipeline/coalescer.ts';
import { Processor } from './pipeline/processor.ts';
import type { Action } from './ports/action.ts';
import type { Replayable } from './ports/replayable.ts';

export interface Daemon {
  readonly httpAddress: AddressInfo;
  /** SIGTERM path: not ready at once, stop consuming, let in-flight work finish within the grace period. */
  stop(): Promise<void>;
}

/** Long enough to outlive any probe stall; short enough that a dead replica's sentinel goes away. */
const SENTINEL_TTL_SECONDS = 600;
/** One retry warning per action per interval, however many lanes retry (the rest are counted). */
const RETRY_LOG_INTERVAL_MS = 1_000;

/** An action behind its coalescer, retrying failed writes with the memcached backoff. */
function coalesced<Item>(
  action: Action<Item>,
  config: Config,
  metrics: Metrics,
  logger: Logger,
): Coalescer<Item> {
  const log = logger.child({ component: action.name });
  const warn = throttled(RETRY_LOG_INTERVAL_MS, (suppressed, error: unknown, attempt: number) => {
    const causes =
      error instanceof AggregateError ? error.errors.map((e) => (e as Error).message) : undefined;
    log.warn(
      { error: (error as Error).message, causes, attempt, suppressed },
      'invalidation not written everywhere; retrying',
    );
  });
  const stats = {
    requested: (n: number) => metrics.itemsRequested.inc({ action: action.name }, n),
    written: (n: number) => metrics.itemsWritten.inc({ action: action.name }, n),
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
      applied: (t) => metrics.invalidations.inc({ kind: t.kind, action: 'markers' }),
      failed: failed('markers'),
    },
    keystoneRegions: {
      applied: (region) => metrics.regionResets.inc({ region }),
      failed: failed('keystoneRegions'),
    },
    middlewarePurge: {
      scanned: (server, keys, seconds, listing) => {
        metrics.scanDuration.observe({ server }, seconds);
        metrics.keysScanned.inc(keys);
        if (!listing.complete) {
          metrics.incompleteScans.inc();
          log.warn({ server }, 'metadump ended without END; purged what it listed');
        }
      },
      deleted: (_server, reason, count) => metrics.entriesDeleted.inc({ reason }, count),
      modeChosen: (server, mode, version) => {
        if (mode === 'all') {
          log.warn(
            { server, version },
            'memcached < 1.6.9 has no "metadump hash": "all" can miss entries being read',
          );
        }
      },
      failed: (server) => metrics.writeFailures.inc({ server, action: 'middlewarePurge' }),
    },
  };
}

function serverRecovery(
  servers: MemcachedServers,
  replayables: readonly Replayable[],
  markers: MarkersAction,
  config: Config,
  metrics: Metrics,
  logger: Logger,
): ServerRecovery {
  const log = logger.child({ component: 'recovery' });
  const settings = {
    sentinelKey: `${config.markers.prefix}:alive:${randomUUID()}`,
    sentinelTtlSeconds: SENTINEL_TTL_SECONDS,
    reassertEveryMs: config.markers.reassertIntervalSeconds * 1000,
  };
  return new ServerRecovery(servers.all, replayables, markers, settings, {
    wiped: (server) => {
      metrics.wipes.inc({ server });
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
      log.warn(
        { server, action, error: (error as Error).message },
        'replay failed; retrying at the next probe',
      );
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
  const servers = new MemcachedServers(config.memcached);
  const { markers, all: actions } = configuredActions(config, servers, now, observers(metrics, logger));
  const runners: InvalidationRunner[] = actions.map((action) => coalesced(action, config, metrics, logger));
  const replayables: readonly Replayable[] = actions;
  const recovery = serverRecovery(servers, replayables, markers, config, metrics, logger);
  const processor = new Processor({
    runners,
    limits: { maxBodyBytes: config.processing.maxBodyBytes },
    recentIds: new RecentIds(config.processing.dedupeWindow),
    metrics,
    logger: logger.child({ component: 'processor' }),
    now,
  });
  const source = new Amqp091Source(config.amqp, config.region, logger.child({ component: 'amqp091' }));

  let stopping = false;
  metrics.observe(() => ({
    consuming: source.isConsuming(),
    servers: servers.all.map((s) => [s.name, s.up] as const),
    replayPending: servers.all.flatMap((s) =>
      replayables.map((a) => [s.name, a.name, a.pending(s.name)] as const),
    ),
    liveMarkers: markers.liveCount,
  }));
  // The HTTP port is the likeliest start-up failure (in use): bind it before any socket is opened, so a
  // failed start leaves nothing behind that would keep the process alive.
  const http = await startHttpServer(
    config.http.host,
    config.http.port,
    {
      checks: () => ({ consuming: source.isConsuming(), memcached: servers.anyUp(), running: !stopping }),
    },
    metrics.registry,
  );
  await servers.startProbing(config.memcached.probeIntervalMs, () => recovery.check());
  source.start(processor.handle, processor.fillGap);
  const harvest = {
    prefix: config.markers.prefix,
    ttlSeconds: config.markers.ttlSeconds,
    metadump: config.middlewarePurge.metadump,
    limits: { timeoutMs: config.middlewarePurge.scanTimeoutMs, idleMs: config.middlewarePurge.scanIdleMs },
  };
  void recovery.readBack((server, signal) =>
    harvestMarkers(server, servers.socketOptions, harvest, markers.remember.bind(markers), now(), signal),
  );
  logger.info(
    { pool: config.amqp.pool, servers: servers.all.map((s) => s.name), http: http.address.port },
    'keystone-cache-invalidator started',
  );

  return {
    httpAddress: http.address,
    async stop() {
      stopping = true;
      await source.stop(config.shutdown.graceMs);
      for (const runner of runners) runner.stop();
      recovery.stop();
      servers.close();
      await new Promise<void>((resolve) => http.server.close(() => resolve()));
      logger.info('stopped');
    },
  };
}
