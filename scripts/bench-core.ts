/** The daemon's core path alone, per item, without a broker or memcached. See USAGE. */
import { Writable } from 'node:stream';
import { configuredActions } from '../src/actions/configured.ts';
import { InFlight } from '../src/adapters/in-flight.ts';
import { notificationItem } from '../src/adapters/notification-item.ts';
import { serverName } from '../src/config/memcached-servers.ts';
import { RecentIds } from '../src/core/recent-ids.ts';
import { ItemLines } from '../src/observability/item-lines.ts';
import { createLogger } from '../src/observability/logger.ts';
import { Metrics } from '../src/observability/metrics.ts';
import { Coalescer } from '../src/pipeline/coalescer.ts';
import { Processor } from '../src/pipeline/processor.ts';
import { MemoryCacheServer } from '../test/support/memory-cache-server.ts';
import { NO_OBSERVERS, unitConfig } from '../test/support/memory-pipeline.ts';
import { osloV2Body } from '../test/support/oslo-wire.ts';
import { parseScriptArgs, type Script, wholeNumber } from './script-args.ts';

const SCRIPT: Script = {
  name: 'bench:core',
  usage: `usage: npm run bench:core -- [--items N] [--tick N] [--runs N] [--json]

The daemon's core path as main.ts wires it, in this process: decode (the 0-9-1 source's
notificationItem), processor, coalescer and the markers action (default configuration: liveLimit
100,000) on two in-memory cache servers, at the default log level into a sink. N
identity.user.updated, each for a new user, handed over --tick at a time with an event-loop turn
between (a socket read's deliveries, in a drain). Prints wall and CPU time per item: what a change
to the core costs or saves, without the broker, memcached and system calls of \`npm run bench\`,
and steady enough to compare two commits.

  --items N   notifications per run (default 100000; past 100000 the live markers fold)
  --tick N    notifications per event-loop turn (default 24)
  --runs N    runs, each on a fresh pipeline; the median is printed (default 5)
  --json      one JSON object instead of a line
  -h, --help  print this help`,
};

const { values } = parseScriptArgs(SCRIPT, {
  options: {
    items: { type: 'string', default: '100000' },
    tick: { type: 'string', default: '24' },
    runs: { type: 'string', default: '5' },
    json: { type: 'boolean' },
  },
});
const items = wholeNumber(SCRIPT, 'items', values.items, 1);
const tick = wholeNumber(SCRIPT, 'tick', values.tick, 1);
const runs = wholeNumber(SCRIPT, 'runs', values.runs, 1);
const LIMITS = { maxBodyBytes: 1_048_576 };
const turn = () => new Promise((resolve) => setImmediate(resolve));

interface Run {
  readonly wallMicros: number;
  readonly cpuMicros: number;
}

/** One run on a fresh pipeline: µs of wall and CPU time per item. */
async function run(bodies: readonly Buffer[]): Promise<Run> {
  const config = unitConfig();
  const now = () => Date.now();
  const servers = config.memcached.servers.map((s) => new MemoryCacheServer(serverName(s), now));
  const { all } = configuredActions(config, servers, now, NO_OBSERVERS);
  const runners = all.map((action) => new Coalescer(action, config.memcached.retry, () => {}));
  const sink = new Writable({ write: (_chunk, _encoding, done) => done() });
  const logger = createLogger(config.log.level, { region: 'bench' }, sink);
  const processor = new Processor({
    runners,
    recentIds: new RecentIds(config.processing.dedupeWindow),
    metrics: new Metrics('bench'),
    logger,
    itemLines: new ItemLines(logger, config.log.itemLinesPerSecond, now),
    now,
  });
  const inFlight = new InFlight();
  let settled = 0;
  const done = Promise.withResolvers<void>();
  const onSettled = () => {
    if (++settled === bodies.length) done.resolve();
  };
  const fail = (error: unknown) => done.reject(error);
  const startedAt = performance.now();
  const cpuAtStart = process.cpuUsage();
  for (let i = 0; i < bodies.length; i += tick) {
    for (const body of bodies.slice(i, i + tick)) {
      const item = notificationItem({ body, headers: {} }, LIMITS, 'amqp091', false);
      inFlight.hand(processor.handle, item, onSettled, fail);
    }
    await turn();
  }
  await done.promise;
  const cpu = process.cpuUsage(cpuAtStart);
  const wallMicros = ((performance.now() - startedAt) * 1000) / bodies.length;
  for (const runner of runners) runner.stop();
  return { wallMicros, cpuMicros: (cpu.user + cpu.system) / bodies.length };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const round = (x: number) => Math.round(x * 100) / 100;

async function main(): Promise<void> {
  // Built before the clock starts: publishing is not the daemon's cost.
  const bodies = Array.from({ length: items }, (_, i) =>
    osloV2Body('identity.user.updated', { resource_info: `user-${i}` }),
  );
  const results: Run[] = [];
  for (let i = 0; i < runs; i++) results.push(await run(bodies));
  const result = {
    items,
    tick,
    runs,
    wallMicrosPerItem: round(median(results.map((r) => r.wallMicros))),
    cpuMicrosPerItem: round(median(results.map((r) => r.cpuMicros))),
  };
  if (values.json) console.log(JSON.stringify(result));
  else {
    console.log(
      `core path, ${items} items in ticks of ${tick}, median of ${runs}: ` +
        `${result.wallMicrosPerItem} µs wall, ${result.cpuMicrosPerItem} µs CPU per item`,
    );
  }
}

main().catch((error: unknown) => {
  console.error(`bench:core: ${(error as Error).message}`);
  process.exitCode = 1;
});
