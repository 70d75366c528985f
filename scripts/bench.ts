/**
 * `npm run bench -- [--rate 2000] [--count 20000] [--runs 3] [--backlog 100000] [--burst 10000]
 *                   [--burst-subjects 100] [--purge 10000,100000]
 *                   [--no-floor] [--memory-limit MiB] [--node-flags "…"] [--profile DIR] [--json]`
 *
 * Against the local RabbitMQ and the two local memcached servers (scripts/local-services.sh), with the
 * daemon as its own process run as the container image runs it (its node flags, read from the
 * Dockerfile; --node-flags overrides them):
 *   floor     the broker alone at the same rate: what no daemon can beat on this machine right now
 *   latency   --runs runs of --count events at --rate/s, each for a new user: publish → marker visible
 *             on every server (p50 … max), throughput, coalescing, the daemon's CPU and peak RSS
 *   backlog   --backlog events wait on the queue, then a daemon starts and drains them
 *   read-back a daemon restarted while the servers hold the backlog's markers reads and re-asserts them
 *   burst     --burst events for --burst-subjects users (cycled) wait, then drain: the coalescing ratio
 *   purge     a middlewarePurge scan for each --purge size of cached tokens per server
 * A phase given 0 (--count 0, --backlog 0, --burst 0, --purge '') is skipped. Targets are reported, never enforced;
 * this is not part of `npm test`. It flushes both memcached servers: run it on test servers only.
 * --memory-limit runs the daemon in a memory cgroup of that size (root), as the Helm chart's limit does.
 * --profile DIR: the daemon writes CPU and allocation profiles (on exit) and a heap snapshot at the end
 * of each phase into DIR; `node scripts/profile-summary.ts FILE` prints their top costs.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { writeConfig } from '../test/support/child-daemon.ts';
import { SERVERS, stats } from '../test/support/memcached-probe.ts';
import { DaemonProcess } from './bench/daemon-process.ts';
import { memoryCgroup } from './bench/memory-cgroup.ts';
import { type BenchContext, backlogDrain, brokerFloor, latencyRun, readBack } from './bench/phases.ts';
import { productionNodeFlags } from './bench/production-flags.ts';
import { Publisher } from './bench/publisher.ts';
import { measurePurge } from './bench/purge-scan.ts';
import { type BenchResult, printReport, TARGETS } from './bench/report.ts';
import { medianBy } from './bench/stats.ts';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '2000' },
    count: { type: 'string', default: '20000' },
    runs: { type: 'string', default: '3' },
    backlog: { type: 'string', default: '100000' },
    burst: { type: 'string', default: '10000' },
    'burst-subjects': { type: 'string', default: '100' },
    purge: { type: 'string', default: '10000,100000' },
    'no-floor': { type: 'boolean' },
    'memory-limit': { type: 'string' },
    'node-flags': { type: 'string' },
    profile: { type: 'string' },
    json: { type: 'boolean' },
  },
});
const BROKER_URL = 'amqp://guest:guest@127.0.0.1:5672/';
const POOL = 'kci-bench';
// An exchange of its own: a queue that some test or daemon left bound to `keystone` would otherwise
// receive a copy of every notification published here, and load the broker.
const EXCHANGE = 'kci-bench';
const PREFETCH = 256;
const HTTP_PORT = 19464;
const count = Number(values.count);
const backlog = Number(values.backlog);
const purgeSizes = values.purge
  .split(',')
  .filter(Boolean)
  .map(Number)
  .filter((n) => n > 0);
const nodeFlags =
  values['node-flags'] === undefined
    ? productionNodeFlags()
    : values['node-flags'].split(' ').filter(Boolean);
const memoryLimitMb = values['memory-limit'] === undefined ? null : Number(values['memory-limit']);
const cgroup = memoryLimitMb === null ? undefined : memoryCgroup(memoryLimitMb);
const profileDir = values.profile;
if (profileDir !== undefined) mkdirSync(profileDir, { recursive: true });
const log = (line: string) => {
  if (!values.json) console.error(line);
};

// Production defaults but for a faster probe (the read-back's re-assertion starts at the first probe)
// and no periodic re-assertion (it would land inside a latency run at random).
const config = writeConfig(`region: bench
amqp:
  url: rabbit://guest:guest@127.0.0.1:5672/
  pool: ${POOL}
  exchange: ${EXCHANGE}
  prefetch: ${PREFETCH}
memcached:
  servers: [${SERVERS.map((s) => `"${s}"`).join(', ')}]
  probeIntervalMs: 1000
markers: { reassertIntervalSeconds: 0 }
http: { host: 127.0.0.1, port: ${HTTP_PORT} }
log: { level: warn }
`);

function machine(memcachedLimitMb: number) {
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    memcached: execFileSync('memcached', ['-V'], { encoding: 'utf8' }).trim(),
    memcachedLimitMb,
  };
}

// Exit (running the daemons' exit hooks, which kill them) on an interrupt.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

async function main(): Promise<void> {
  const publisher = await Publisher.open(BROKER_URL, EXCHANGE);
  const ctx: BenchContext = {
    publisher,
    brokerUrl: BROKER_URL,
    pool: POOL,
    prefetch: PREFETCH,
    rate: Number(values.rate),
    count,
    runId: () => randomBytes(4).toString('hex'),
    async startDaemon() {
      const daemon = new DaemonProcess({ config, httpPort: HTTP_PORT, nodeFlags, profileDir, cgroup });
      await daemon.ready();
      daemon.mark();
      return daemon;
    },
    async endDaemon(daemon) {
      if (profileDir !== undefined) await daemon.snapshot();
      await daemon.stop();
    },
  };
  try {
    log(`broker floor: ${count} events at ${ctx.rate}/s`);
    const floor = count > 0 && !values['no-floor'] ? await brokerFloor(ctx) : null;
    const runs = [];
    for (let i = 0; i < (count > 0 ? Number(values.runs) : 0); i++) {
      log(`latency run ${i + 1}: ${count} events at ${ctx.rate}/s`);
      runs.push(await latencyRun(ctx));
    }
    log(`backlog: ${backlog} events`);
    const drained = backlog > 0 ? await backlogDrain(ctx, backlog) : null;
    log('restart with the backlog’s markers on the servers');
    const restarted = backlog > 0 ? await readBack(ctx, backlog) : null;
    const burst = Number(values.burst);
    log(`burst: ${burst} events for ${values['burst-subjects']} users`);
    const coalesced = burst > 0 ? await backlogDrain(ctx, burst, Number(values['burst-subjects'])) : null;
    await publisher.channel.deleteQueue(POOL);
    await publisher.channel.deleteExchange(EXCHANGE);
    const purge = [];
    for (const tokens of purgeSizes) {
      log(`purge: ${tokens} cached tokens per server`);
      purge.push(await measurePurge(tokens));
    }
    const result: BenchResult = {
      machine: machine(Number((await stats(SERVERS[0])).limit_maxbytes ?? 0) / 2 ** 20),
      settings: { nodeFlags, memoryLimitMb },
      floor,
      latency: runs.length > 0 ? { runs, median: medianBy(runs, (r) => r.p99Ms) } : null,
      backlog: drained,
      readBack: restarted,
      burst: coalesced,
      purge,
      targets: TARGETS,
    };
    if (values.json) console.log(JSON.stringify(result, null, 2));
    else printReport(result);
  } finally {
    await publisher.close();
  }
}

await main();
