import { Writable } from 'node:stream';
import { type ActionObservers, configuredActions } from '../../src/actions/configured.ts';
import type { MarkerSettings } from '../../src/actions/markers.ts';
import { type Config, parseConfig } from '../../src/config/load.ts';
import { serverName } from '../../src/config/memcached-servers.ts';
import { RecentIds } from '../../src/core/recent-ids.ts';
import { ItemLines } from '../../src/observability/item-lines.ts';
import { createLogger, type Logger } from '../../src/observability/logger.ts';
import { Metrics } from '../../src/observability/metrics.ts';
import { Coalescer } from '../../src/pipeline/coalescer.ts';
import { Processor } from '../../src/pipeline/processor.ts';
import { ManualClock, MemoryCacheServer } from './memory-cache-server.ts';

/** The markers action's defaults (prefix kci, 1 h TTL, 2 s margin, targeted), for the unit tests. */
export const MARKER_SETTINGS: MarkerSettings = {
  prefix: 'kci',
  ttlSeconds: 3600,
  clockSkewMarginMs: 2000,
  mode: 'targeted',
  liveLimit: 1000,
};

export const NO_OBSERVERS: ActionObservers = {
  markers: { applied() {}, failed() {} },
  keystoneRegions: { applied() {}, failed() {} },
  middlewarePurge: { looked() {}, scanned() {}, deleted() {}, failed() {} },
};

/** A logger whose lines a test can read. */
export function capturingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  return { logger: createLogger('debug', { region: 'unit' }, sink), lines };
}

/** A configuration for the unit tests: two in-memory servers, quick retries; `extra` is more YAML. */
export function unitConfig(extra = ''): Config {
  return parseConfig(
    `region: unit
amqp: { url: "rabbit://unit:unit@broker.invalid:5672/", allowPlaintext: true }
memcached:
  servers: ["mc-a:11211", "mc-b:11211"]
  allowPlaintext: true
  retry: { initialDelayMs: 1, maxDelayMs: 5 }
${extra}`,
    'unit test',
  );
}

/**
 * The daemon's pipeline as main.ts wires it (configured actions, one coalescer each, the processor),
 * on in-memory servers and a clock of the test's own: no broker and no memcached.
 */
export function memoryPipeline(extra = '') {
  const config = unitConfig(extra);
  const clock = new ManualClock(Date.now());
  const servers = config.memcached.servers.map((s) => new MemoryCacheServer(serverName(s), clock.now));
  const { markers, all: actions } = configuredActions(config, servers, clock.now, NO_OBSERVERS);
  const runners = actions.map((action) => new Coalescer(action, config.memcached.retry, () => {}));
  const metrics = new Metrics('unit');
  const { logger, lines } = capturingLogger();
  const itemLines = new ItemLines(logger, config.log.itemLinesPerSecond, clock.now);
  const processor = new Processor({
    runners,
    recentIds: new RecentIds(config.processing.dedupeWindow),
    metrics,
    logger,
    itemLines,
    now: clock.now,
  });
  return {
    config,
    clock,
    servers,
    markers,
    actions,
    runners,
    metrics,
    processor,
    itemLines,
    logLines: lines,
    stop: () => {
      for (const runner of runners) runner.stop();
      itemLines.flush();
    },
  };
}

/** A counter's value for one label set (0 when absent). */
export async function counter(
  metric: { get(): Promise<{ values: ReadonlyArray<{ value: number; labels: Record<string, unknown> }> }> },
  labels: Record<string, string> = {},
): Promise<number> {
  const { values } = await metric.get();
  return values
    .filter((v) => Object.entries(labels).every(([k, want]) => v.labels[k] === want))
    .reduce((sum, v) => sum + v.value, 0);
}
