import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Worker } from 'node:worker_threads';
import { flushAll, SERVERS } from '../../test/support/memcached-probe.ts';
import { sample } from '../../test/support/metrics-text.ts';
import type { DaemonProcess, DaemonUsage } from './daemon-process.ts';
import type { Publisher } from './publisher.ts';
import { type Percentiles, percentiles, round } from './stats.ts';
import { SystemLoad } from './system-load.ts';
import { absoluteNow, VisibilityWatcher } from './visibility-watcher.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface BenchContext {
  readonly publisher: Publisher;
  readonly brokerUrl: string;
  readonly pool: string;
  readonly prefetch: number;
  readonly rate: number;
  readonly count: number;
  /** A daemon on the bench config (plus `extraYaml`), ready, and marked (its usage counts from now). */
  startDaemon(extraYaml?: string, servers?: readonly string[], protocol?: Protocol): Promise<DaemonProcess>;
  /** Ends a daemon (after a heap snapshot when profiling). */
  endDaemon(daemon: DaemonProcess): Promise<void>;
  readonly runId: () => string;
}

export interface FloorFigures extends Percentiles {
  readonly events: number;
  readonly rate: number;
}

/**
 * The broker alone, at the same rate: publish → delivered to a consumer that only acks (in a worker
 * thread, as the watcher is). What no daemon can beat on this machine at this moment.
 */
export async function brokerFloor(ctx: BenchContext): Promise<FloorFigures> {
  const queue = `${ctx.pool}.floor`;
  await ctx.publisher.freshQueue(queue);
  const receivedAt = new SharedArrayBuffer(ctx.count * 8);
  const worker = new Worker(new URL('./floor-consumer.ts', import.meta.url), {
    workerData: { url: ctx.brokerUrl, queue, prefetch: ctx.prefetch, receivedAt },
  });
  await new Promise((resolve, reject) => worker.once('message', resolve).once('error', reject));
  const publishedAt = new Float64Array(ctx.count);
  const received = new Float64Array(receivedAt);
  await ctx.publisher.atRate(
    ctx.count,
    ctx.rate,
    (seq) => `floor-${seq}`,
    (seq) => {
      publishedAt[seq] = absoluteNow();
    },
  );
  while (received.includes(0)) await sleep(10);
  worker.postMessage('stop');
  await new Promise((resolve) => worker.once('exit', resolve));
  await ctx.publisher.channel.deleteQueue(queue);
  const latencies = Array.from(received, (at, seq) => at - (publishedAt[seq] as number));
  return { events: ctx.count, rate: ctx.rate, ...percentiles(latencies) };
}

export interface LatencyFigures extends Percentiles {
  readonly events: number;
  readonly rate: number;
  readonly throughputPerSecond: number;
  readonly coalescingRatio: number;
  readonly daemon: DaemonUsage;
  readonly machine: { busyPercent: number; stealPercent: number };
  /** The daemon's own view (notification timestamp → written on a server): share within each bound. */
  readonly daemonLag: Record<string, number>;
  /** The daemon's event loop over the run (prom-client's monitor, 10 ms resolution): p99 and max. */
  readonly eventLoopDelay: { p99Ms: number; maxMs: number };
}

/** `count` events at `rate`/s, each for a new user: publish → marker on every server. */
export async function latencyRun(ctx: BenchContext): Promise<LatencyFigures> {
  await ctx.publisher.freshQueue(ctx.pool);
  await flushAll();
  const daemon = await ctx.startDaemon();
  // Each event is for a new user whose id ends in its sequence number: the watcher derives the keys.
  const run = ctx.runId();
  const watcher = new VisibilityWatcher({
    servers: SERVERS,
    keyPrefix: `kci:v1:user:${run}-`,
    count: ctx.count,
  });
  await watcher.ready;
  const load = new SystemLoad();
  daemon.mark();
  const started = performance.now();
  await ctx.publisher.atRate(
    ctx.count,
    ctx.rate,
    (seq) => `${run}-${seq}`,
    (seq) => watcher.published(seq),
  );
  while (watcher.outstanding() > 0) await sleep(10);
  const seconds = (performance.now() - started) / 1000;
  const usage = daemon.usage();
  const machine = load.stop();
  await watcher.stop();
  // One scrape: prom-client resets its event-loop histogram at each, so this one covers the whole run.
  const metrics = await daemon.scrape();
  const requested = sample(metrics, 'kci_coalescer_items_requested_total', 'action="markers"');
  const written = sample(metrics, 'kci_coalescer_items_written_total', 'action="markers"');
  const eventLoopDelay = {
    p99Ms: round(sample(metrics, 'nodejs_eventloop_lag_p99_seconds') * 1000),
    maxMs: round(sample(metrics, 'nodejs_eventloop_lag_max_seconds') * 1000),
  };
  await ctx.endDaemon(daemon);
  return {
    events: ctx.count,
    rate: ctx.rate,
    ...percentiles(watcher.latencies()),
    throughputPerSecond: Math.round(ctx.count / seconds),
    coalescingRatio: round(requested / written),
    daemon: usage,
    machine,
    daemonLag: lagShares(metrics),
    eventLoopDelay,
  };
}

function lagShares(metrics: string): Record<string, number> {
  const count = sample(metrics, 'kci_notification_lag_seconds_count');
  const share: Record<string, number> = {};
  for (const le of ['0.005', '0.01', '0.025', '0.05']) {
    const within = sample(metrics, 'kci_notification_lag_seconds_bucket', `le="${le}"`);
    share[`within${Number(le) * 1000}Ms`] = round(within / count);
  }
  return share;
}

/** Polls the daemon's metrics until `name` (its samples matching `labels`) reaches `atLeast`. */
async function untilMetric(daemon: DaemonProcess, name: string, atLeast: number, labels = ''): Promise<void> {
  while ((await daemon.metric(name, labels)) < atLeast) await sleep(20);
}

export interface BacklogFigures {
  readonly events: number;
  /** Distinct users the events are for (cycled): fewer than events gives the coalescer work. */
  readonly subjects: number;
  /** From the process's start to the last acknowledgement. */
  readonly drainSeconds: number;
  /** From the process's start to /readyz saying it consumes. */
  readonly startToConsumingSeconds: number;
  readonly eventsPerSecond: number;
  readonly coalescingRatio: number;
  readonly daemon: DaemonUsage;
  readonly rssAfterDrainMb: number;
}

export type Protocol = '0-9-1' | '1.0';

/**
 * `events` notifications for `subjects` users wait on the queue; then a daemon starts and drains them,
 * over AMQP 0-9-1 or (RabbitMQ's plugin) 1.0.
 */
export async function backlogDrain(
  ctx: BenchContext,
  events: number,
  subjects = events,
  protocol?: Protocol,
): Promise<BacklogFigures> {
  await ctx.publisher.freshQueue(ctx.pool);
  const run = ctx.runId();
  await ctx.publisher.all(events, (seq) => `${run}-${seq % subjects}`);
  await flushAll();
  const daemon = await ctx.startDaemon(undefined, undefined, protocol);
  while ((await ctx.publisher.depth(ctx.pool)) > 0) await sleep(5);
  // Depth 0 means delivered; wait for the last acknowledgements too.
  await untilMetric(daemon, 'kci_notifications_total', events);
  const drainSeconds = (performance.now() - daemon.spawnedAt) / 1000;
  const usage = daemon.usage();
  const rssAfterDrainMb = Math.round(daemon.rssBytes() / 2 ** 20);
  const metrics = await daemon.scrape();
  const requested = sample(metrics, 'kci_coalescer_items_requested_total', 'action="markers"');
  const written = sample(metrics, 'kci_coalescer_items_written_total', 'action="markers"');
  await ctx.endDaemon(daemon);
  return {
    events,
    subjects,
    drainSeconds: round(drainSeconds),
    startToConsumingSeconds: round((daemon.readyAt - daemon.spawnedAt) / 1000),
    eventsPerSecond: Math.round(events / drainSeconds),
    coalescingRatio: round(requested / written),
    daemon: usage,
    rssAfterDrainMb,
  };
}

export interface DrainFloorFigures {
  readonly events: number;
  /** From the no-op consumer's start to its last acknowledgement. */
  readonly drainSeconds: number;
  readonly eventsPerSecond: number;
}

/**
 * The broker floor for a backlog: the same notifications waiting on the pool queue, drained by a
 * process that only acknowledges (scripts/bench/drain-floor.ts) with the daemon's prefetch. Timed
 * from its start, as the daemon's drain is.
 */
export async function drainFloor(ctx: BenchContext, events: number): Promise<DrainFloorFigures> {
  await ctx.publisher.freshQueue(ctx.pool);
  const run = ctx.runId();
  await ctx.publisher.all(events, (seq) => `${run}-${seq}`);
  const startedAt = performance.timeOrigin + performance.now();
  const script = new URL('./drain-floor.ts', import.meta.url).pathname;
  const args = [script, ctx.brokerUrl, ctx.pool, String(ctx.prefetch), String(events)];
  const { stdout } = await promisify(execFile)(process.execPath, args, { timeout: 300_000 });
  const { lastAckAt } = JSON.parse(stdout) as { lastAckAt: number };
  const drainSeconds = (lastAckAt - startedAt) / 1000;
  return { events, drainSeconds: round(drainSeconds), eventsPerSecond: Math.round(events / drainSeconds) };
}

export interface ReadBackFigures {
  readonly markersOnServers: number;
  readonly readBackSeconds: number;
  readonly reassertedSeconds: number;
  readonly daemon: DaemonUsage;
}

/**
 * A daemon restarted while the servers hold `markers` live markers (those the backlog left): it reads
 * them back and re-asserts them on every server. Times until all are remembered, and until every server
 * has had them re-asserted (that starts at the first probe after the read-back).
 */
export async function readBack(ctx: BenchContext, markers: number): Promise<ReadBackFigures> {
  await ctx.publisher.freshQueue(ctx.pool);
  const started = performance.now();
  const daemon = await ctx.startDaemon();
  await untilMetric(daemon, 'kci_live_markers', markers);
  const readBackSeconds = (performance.now() - started) / 1000;
  await untilMetric(daemon, 'kci_replays_total', SERVERS.length, 'action="markers",outcome="done"');
  const reassertedSeconds = (performance.now() - started) / 1000;
  const usage = daemon.usage();
  await ctx.endDaemon(daemon);
  return {
    markersOnServers: markers,
    readBackSeconds: round(readBackSeconds),
    reassertedSeconds: round(reassertedSeconds),
    daemon: usage,
  };
}
