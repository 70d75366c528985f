/**
 * `npm run bench -- [--rate 2000] [--count 20000] [--backlog 100000] [--json]`: invalidation latency,
 * throughput, backlog drain, coalescing and the daemon's memory and CPU, against the local RabbitMQ and
 * the two local memcached servers (scripts/local-services.sh). The daemon runs as its own process (the
 * built CLI), as in production. Not part of `npm test`; targets are reported, never enforced. It
 * flushes both memcached servers first (a starting daemon reads back every marker it finds and
 * re-asserts them, which would compete with the measurement): run it on test servers only.
 *
 * Latency of an event: from just before its publish to the moment its marker is seen on EVERY server.
 * "Seen" comes from a watcher per server that multi-gets the outstanding marker keys in a tight loop,
 * so each figure carries up to one watcher round trip (a fraction of a millisecond on loopback).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import amqp from 'amqplib';
import { MemcachedConnection } from '../src/adapters/memcached/connection.ts';
import { parseMemcachedServer } from '../src/config/memcached-servers.ts';
import { writeConfig } from '../test/support/child-daemon.ts';
import { flushAll, SERVERS } from '../test/support/memcached-probe.ts';
import { osloV2Body } from '../test/support/oslo-wire.ts';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '2000' },
    count: { type: 'string', default: '20000' },
    backlog: { type: 'string', default: '100000' },
    json: { type: 'boolean' },
  },
});
const RATE = Number(values.rate);
const COUNT = Number(values.count);
const BACKLOG = Number(values.backlog);
const POOL = 'kci-bench';
const EXCHANGE = 'keystone';
const HTTP_PORT = 19464;
const CLI = new URL('../bin/keystone-cache-invalidator.js', import.meta.url).pathname;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const hex = () => randomBytes(12).toString('hex');
const log = (line: string) => {
  if (!values.json) console.error(line);
};

const config = writeConfig(`region: bench
amqp:
  url: rabbit://guest:guest@127.0.0.1:5672/
  pool: ${POOL}
  prefetch: 256
memcached:
  servers: [${SERVERS.map((s) => `"${s}"`).join(', ')}]
markers: { reassertIntervalSeconds: 0 }
http: { host: 127.0.0.1, port: ${HTTP_PORT} }
log: { level: warn }
`);

/** The daemon as its own process; its RSS and CPU are read from /proc. */
class Daemon {
  readonly child: ChildProcess;
  #peakRssBytes = 0;
  readonly #sampler: NodeJS.Timeout;

  constructor() {
    this.child = spawn(process.execPath, [CLI, 'run', '--config', config], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    this.#sampler = setInterval(() => {
      this.#peakRssBytes = Math.max(this.#peakRssBytes, this.rssBytes());
    }, 50);
  }

  async ready(): Promise<void> {
    for (;;) {
      const ok = await fetch(`http://127.0.0.1:${HTTP_PORT}/readyz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) return;
      await sleep(50);
    }
  }

  rssBytes(): number {
    const status = readFileSync(`/proc/${this.child.pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
  }

  /** User + system CPU seconds so far. */
  cpuSeconds(): number {
    const fields = readFileSync(`/proc/${this.child.pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
  }

  get peakRssBytes(): number {
    return this.#peakRssBytes;
  }

  async metric(name: string, labels = ''): Promise<number> {
    const text = await (await fetch(`http://127.0.0.1:${HTTP_PORT}/metrics`)).text();
    return text
      .split('\n')
      .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
      .filter((l) => l.includes(labels))
      .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
  }

  async stop(): Promise<void> {
    clearInterval(this.#sampler);
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    await exited;
  }
}

/** Polls one server for the outstanding keys; records when each was first seen there. */
function watch(
  server: string,
  outstanding: Map<string, number>,
  seen: Map<string, number[]>,
  stop: { done: boolean },
) {
  const connection = new MemcachedConnection(parseMemcachedServer(server), {
    connectTimeoutMs: 2_000,
    requestTimeoutMs: 5_000,
    tls: null,
  });
  const pending = new Set<string>();
  return (async () => {
    while (!stop.done) {
      for (const key of outstanding.keys()) pending.add(key);
      if (pending.size === 0) {
        await sleep(0.2);
        continue;
      }
      const keys = [...pending].slice(0, 500);
      const found = await connection.gets(keys);
      const now = performance.now();
      for (const key of found.keys()) {
        pending.delete(key);
        const times = seen.get(key) ?? [];
        times.push(now);
        seen.set(key, times);
        if (times.length === SERVERS.length) outstanding.delete(key);
      }
    }
    connection.close();
  })();
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

async function main(): Promise<void> {
  const connection = await amqp.connect('amqp://guest:guest@127.0.0.1:5672/');
  const channel = await connection.createConfirmChannel();
  await channel.assertExchange(EXCHANGE, 'topic', { durable: false });
  await channel.deleteQueue(POOL);
  await channel.assertQueue(POOL, { durable: false, autoDelete: false });
  await channel.bindQueue(POOL, EXCHANGE, 'notifications.info');
  const publish = (user: string) =>
    channel.publish(
      EXCHANGE,
      'notifications.info',
      osloV2Body('identity.user.updated', { resource_info: user }),
      {
        contentType: 'application/json',
      },
    );

  // 1. Latency and sustained throughput at RATE events/s.
  await flushAll();
  let daemon = new Daemon();
  await daemon.ready();
  log(`latency: ${COUNT} events at ${RATE}/s`);
  const outstanding = new Map<string, number>();
  const published = new Map<string, number>();
  const seen = new Map<string, number[]>();
  const stop = { done: false };
  const watchers = SERVERS.map((s) => watch(s, outstanding, seen, stop));
  const cpuBefore = daemon.cpuSeconds();
  const started = performance.now();
  for (let i = 0; i < COUNT; i++) {
    const due = started + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    const user = hex();
    const key = `kci:v1:user:${user}`;
    const at = performance.now();
    published.set(key, at);
    outstanding.set(key, at);
    publish(user);
    if (i % 500 === 499) await channel.waitForConfirms();
  }
  await channel.waitForConfirms();
  while (outstanding.size > 0) await sleep(10);
  const finished = performance.now();
  stop.done = true;
  await Promise.all(watchers);
  const cpuLatency = daemon.cpuSeconds() - cpuBefore;
  const latencies = [...published].map(([key, at]) => Math.max(...(seen.get(key) ?? [Number.NaN])) - at);
  latencies.sort((a, b) => a - b);
  const requested = await daemon.metric('kci_coalescer_items_requested_total', 'action="markers"');
  const written = await daemon.metric('kci_coalescer_items_written_total', 'action="markers"');
  const peakRssLoad = daemon.peakRssBytes;
  await daemon.stop();

  // 2. Backlog: BACKLOG events wait on the queue, then the daemon starts and drains them.
  log(`backlog: publishing ${BACKLOG} events with no daemon running`);
  for (let i = 0; i < BACKLOG; i++) {
    publish(hex());
    if (i % 1000 === 999) await channel.waitForConfirms();
  }
  await channel.waitForConfirms();
  await flushAll();
  daemon = new Daemon();
  await daemon.ready();
  const drainStarted = performance.now();
  const cpuDrainBefore = daemon.cpuSeconds();
  while ((await channel.checkQueue(POOL)).messageCount > 0) await sleep(20);
  // Depth 0 means delivered; wait for the last acknowledgements too.
  while ((await daemon.metric('kci_notifications_total')) < BACKLOG) await sleep(20);
  const drainSeconds = (performance.now() - drainStarted) / 1000;
  const cpuDrain = daemon.cpuSeconds() - cpuDrainBefore;
  const peakRssBacklog = daemon.peakRssBytes;
  await daemon.stop();
  await channel.deleteQueue(POOL);
  await connection.close();

  const result = {
    machine: { cpus: (await import('node:os')).cpus().length, node: process.version },
    latency: {
      events: COUNT,
      rate: RATE,
      p50Ms: round(percentile(latencies, 50)),
      p90Ms: round(percentile(latencies, 90)),
      p99Ms: round(percentile(latencies, 99)),
      p999Ms: round(percentile(latencies, 99.9)),
      maxMs: round(latencies.at(-1) ?? Number.NaN),
      throughputPerSecond: Math.round(COUNT / ((finished - started) / 1000)),
      daemonCpuPercent: Math.round((cpuLatency / ((finished - started) / 1000)) * 100),
      coalescingRatio: round(requested / written),
      peakRssMb: round(peakRssLoad / 2 ** 20),
    },
    backlog: {
      events: BACKLOG,
      drainSeconds: round(drainSeconds),
      eventsPerSecond: Math.round(BACKLOG / drainSeconds),
      daemonCpuPercent: Math.round((cpuDrain / drainSeconds) * 100),
      peakRssMb: round(peakRssBacklog / 2 ** 20),
    },
    targets: { p99Ms: 10, atRate: 2000, backlogOf100000InSeconds: 10, rssMb: 100 },
  };
  if (values.json) {
    console.log(JSON.stringify(result, null, 2));
    return;
  }
  const l = result.latency;
  const b = result.backlog;
  console.log(`
invalidation latency, publish → marker on every server (${l.events} events at ${l.rate}/s)
  p50 ${l.p50Ms} ms   p90 ${l.p90Ms} ms   p99 ${l.p99Ms} ms   p99.9 ${l.p999Ms} ms   max ${l.maxMs} ms   (target p99 ≤ 10 ms)
  throughput ${l.throughputPerSecond}/s   daemon CPU ${l.daemonCpuPercent} %   coalescing ${l.coalescingRatio}   peak RSS ${l.peakRssMb} MB
backlog drain (${b.events} events waiting at start)
  ${b.drainSeconds} s   ${b.eventsPerSecond}/s   daemon CPU ${b.daemonCpuPercent} %   peak RSS ${b.peakRssMb} MB   (target ≤ 10 s, RSS ≤ 100 MB)`);
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

await main();
