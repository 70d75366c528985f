/**
 * The benchmark: invalidation latency, throughput, backlog drain, memory and purge cost, measured
 * against the local services with the daemon as its own process. See USAGE.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import os from 'node:os';
import { parseConfig } from '../src/config/load.ts';
import { writeConfig } from '../test/support/child-daemon.ts';
import { SERVERS, stats } from '../test/support/memcached-probe.ts';
import { DaemonProcess } from './bench/daemon-process.ts';
import { indexPurge } from './bench/index-purge.ts';
import { memoryCgroup } from './bench/memory-cgroup.ts';
import { listenerDrain } from './bench/oslo-listener-drain.ts';
import {
  type BenchContext,
  backlogDrain,
  brokerFloor,
  drainFloor,
  latencyRun,
  type Protocol,
  readBack,
} from './bench/phases.ts';
import { productionMallocEnvironment, productionNodeFlags } from './bench/production-flags.ts';
import { BENCH_QUEUE_ARGUMENTS, Publisher } from './bench/publisher.ts';
import { measurePurge } from './bench/purge-scan.ts';
import { type BenchResult, type DrainRun, printReport, TARGETS } from './bench/report.ts';
import { revocationPhase } from './bench/revocation-phase.ts';
import { medianBy } from './bench/stats.ts';
import { buildDaemon, startLocalServices } from './prepare.ts';
import { parseScriptArgs, type Script, usageError, wholeNumber } from './script-args.ts';

const SCRIPT: Script = {
  name: 'bench',
  usage: `usage: npm run bench -- [options]

Against the local RabbitMQ and the two local memcached servers (started if absent), with the daemon
as its own process run as the container image runs it (its node flags, read from the Dockerfile):
  floor      the broker alone at the same rate: what no daemon can beat on this machine right now
  latency    --runs runs of --count events at --rate/s, each for a new user: publish → marker visible
             on every server (p50 … max), throughput, coalescing, the daemon's CPU and peak RSS
  backlog    --backlog events wait on the queue, then a process that only acknowledges drains them
             (the broker's floor), then the daemon; --drain-runs pairs, each timed from the process's
             start; then once over AMQP 1.0 (RabbitMQ's plugin)
  read-back  a daemon restarted while the servers hold the backlog's markers reads and re-asserts them
  burst      --burst events for --burst-subjects users (cycled) wait, then drain: the coalescing ratio
  purge      a middlewarePurge scan for each --purge size of cached tokens per server
  index      middlewarePurge with the index, for each --index-purge size per server (memcached servers
             of its own): the index built, the daemon's memory per entry, purge latency
  revocation a real Keystone (scripts/local-keystone.sh) and the revocation poller at its default
             interval: idle for --revocation-idle seconds (Keystone's cost: requests/s, time per
             request, its CPU), then --revocations tokens revoked one at a time, each timed from
             DELETE /v3/auth/tokens to its marker on every server
A phase given 0 (--count 0, --backlog 0, --burst 0, --purge '', --revocations 0) is skipped. Targets are reported,
never enforced. It FLUSHES both memcached servers: run it on test servers only.

  --rate N             events per second in the latency runs (default 2000)
  --count N            events per latency run (default 20000)
  --runs N             latency runs (default 3)
  --backlog N          events in the backlog phase (default 100000)
  --drain-runs N       floor-and-daemon pairs in the backlog phase (default 3)
  --prefetch N         amqp.prefetch of the daemons and the floors (default: the daemon's default)
  --burst N            events in the burst phase (default 10000)
  --burst-subjects N   users the burst cycles through (default 100)
  --purge N,N          cached tokens per server, one purge phase each (default 10000,100000)
  --index-purge N,N    cached tokens per server, one index phase each (default 10000,100000,1000000;
                       1,000,000 needs about 5 GB of memory for the two memcached servers)
  --revocations N      tokens revoked in the revocation phase (default 20)
  --revocation-idle S  seconds the poller runs idle first (default 30)
  --keystone-no-cache  Keystone without its own cache (production runs it with memcached)
  --no-floor           skip the broker floor
  --no-listener        skip the backlog drained by an oslo.messaging listener (Python; about 40 s)
  --memory-limit MiB   run the daemon in a memory cgroup of that size (root), as the chart's limit does
  --node-flags "…"     node flags for the daemon instead of the image's
  --profile DIR        CPU and allocation profiles (on exit) and a heap snapshot per phase into DIR;
                       node scripts/profile-summary.ts FILE prints their top costs
  --json               the results as one JSON document on stdout
  -h, --help           print this help`,
};

const { values } = parseScriptArgs(SCRIPT, {
  options: {
    rate: { type: 'string', default: '2000' },
    count: { type: 'string', default: '20000' },
    runs: { type: 'string', default: '3' },
    backlog: { type: 'string', default: '100000' },
    'drain-runs': { type: 'string', default: '3' },
    prefetch: { type: 'string' },
    burst: { type: 'string', default: '10000' },
    'burst-subjects': { type: 'string', default: '100' },
    purge: { type: 'string', default: '10000,100000' },
    'index-purge': { type: 'string', default: '10000,100000,1000000' },
    revocations: { type: 'string', default: '20' },
    'revocation-idle': { type: 'string', default: '30' },
    'keystone-no-cache': { type: 'boolean' },
    'no-floor': { type: 'boolean' },
    'no-listener': { type: 'boolean' },
    'memory-limit': { type: 'string' },
    'node-flags': { type: 'string' },
    profile: { type: 'string' },
    json: { type: 'boolean' },
  },
});
const BROKER_URL = 'amqp://guest:guest@127.0.0.1:5672/';
// Names of this run's own: a queue or exchange left by an earlier, interrupted run (or by anyone else)
// is never consumed from or deleted. An exchange of its own: a queue that some test or daemon left
// bound to `keystone` would otherwise receive a copy of every notification published here.
const POOL = `kci-bench-${process.pid}`;
const EXCHANGE = POOL;
// The daemon's own default unless --prefetch says otherwise: the figures are those of a default install.
const PREFETCH =
  values.prefetch === undefined
    ? parseConfig(
        'region: bench\namqp: { url: "rabbit://127.0.0.1/" }\nmemcached: { servers: ["127.0.0.1:1"] }',
        'defaults',
      ).amqp.prefetch
    : wholeNumber(SCRIPT, 'prefetch', values.prefetch, 1);
const HTTP_PORT = 19464;
const rate = wholeNumber(SCRIPT, 'rate', values.rate, 1);
const count = wholeNumber(SCRIPT, 'count', values.count);
const runCount = wholeNumber(SCRIPT, 'runs', values.runs, 1);
const backlog = wholeNumber(SCRIPT, 'backlog', values.backlog);
const drainRuns = wholeNumber(SCRIPT, 'drain-runs', values['drain-runs'], 1);
const burst = wholeNumber(SCRIPT, 'burst', values.burst);
const burstSubjects = wholeNumber(SCRIPT, 'burst-subjects', values['burst-subjects'], 1);
const purgeSizes = values.purge
  .split(',')
  .filter(Boolean)
  .map((size) => wholeNumber(SCRIPT, 'purge', size, 1));
const nodeFlags =
  values['node-flags'] === undefined
    ? productionNodeFlags()
    : values['node-flags'].split(' ').filter(Boolean);
const daemonEnv = productionMallocEnvironment();
const indexSizes = values['index-purge']
  .split(',')
  .filter(Boolean)
  .map((size) => wholeNumber(SCRIPT, 'index-purge', size, 1));
const revocations = wholeNumber(SCRIPT, 'revocations', values.revocations);
const revocationIdle = wholeNumber(SCRIPT, 'revocation-idle', values['revocation-idle'], 1);
const memoryLimitMb =
  values['memory-limit'] === undefined
    ? null
    : wholeNumber(SCRIPT, 'memory-limit', values['memory-limit'], 16);
if (memoryLimitMb !== null && process.getuid?.() !== 0) usageError(SCRIPT, '--memory-limit needs root');
startLocalServices();
buildDaemon();
const cgroup = memoryLimitMb === null ? undefined : memoryCgroup(memoryLimitMb);
const profileDir = values.profile;
if (profileDir !== undefined) mkdirSync(profileDir, { recursive: true });
const log = (line: string) => {
  if (!values.json) console.error(line);
};

// Production defaults (the log level too: per-item lines are part of the daemon's cost) but for a
// faster probe (the read-back's re-assertion starts at the first probe) and no periodic re-assertion
// (it would land inside a latency run at random).
const benchConfig = (
  extra = '',
  servers: readonly string[] = SERVERS,
  protocol: Protocol = '0-9-1',
) => `region: bench
amqp:
  url: ${protocol === '1.0' ? 'amqp' : 'rabbit'}://guest:guest@127.0.0.1:5672/
  pool: ${POOL}
  exchange: ${EXCHANGE}
  queueArguments: ${JSON.stringify(BENCH_QUEUE_ARGUMENTS)}
  prefetch: ${PREFETCH}
memcached:
  servers: [${servers.map((s) => `"${s}"`).join(', ')}]
  probeIntervalMs: 1000
markers: { reassertIntervalSeconds: 0 }
http: { host: 127.0.0.1, port: ${HTTP_PORT} }
${extra}`;
const config = writeConfig(benchConfig());

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
  // Every daemon of the bench declares the pool queue, whichever phases run: it goes at the end.
  publisher.owns(POOL);
  const ctx: BenchContext = {
    publisher,
    brokerUrl: BROKER_URL,
    pool: POOL,
    prefetch: PREFETCH,
    rate,
    count,
    runId: () => randomBytes(4).toString('hex'),
    async startDaemon(extraYaml?: string, servers?: readonly string[], protocol?: Protocol) {
      const custom = extraYaml !== undefined || protocol !== undefined;
      const file = custom ? writeConfig(benchConfig(extraYaml, servers, protocol)) : config;
      const daemon = new DaemonProcess({
        config: file,
        httpPort: HTTP_PORT,
        nodeFlags,
        env: daemonEnv,
        profileDir,
        cgroup,
      });
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
    for (let i = 0; i < (count > 0 ? runCount : 0); i++) {
      log(`latency run ${i + 1}: ${count} events at ${ctx.rate}/s`);
      runs.push(await latencyRun(ctx));
    }
    const drains: DrainRun[] = [];
    for (let i = 0; i < (backlog > 0 ? drainRuns : 0); i++) {
      log(`backlog run ${i + 1}: ${backlog} events, drained by the broker's floor, then by the daemon`);
      const floorRun = values['no-floor'] ? null : await drainFloor(ctx, backlog);
      const daemonRun = await backlogDrain(ctx, backlog);
      const share =
        floorRun === null ? null : Math.round((floorRun.drainSeconds / daemonRun.drainSeconds) * 100) / 100;
      drains.push({ floor: floorRun, daemon: daemonRun, share });
    }
    const drained = drains.length > 0 ? medianBy(drains, (d) => d.daemon.drainSeconds).daemon : null;
    log(`backlog drained by an oslo.messaging listener: ${backlog} events`);
    const listener = backlog > 0 && !values['no-listener'] ? await listenerDrain(ctx, backlog) : null;
    log(`backlog over AMQP 1.0: ${backlog} events`);
    const drainedAmqp10 = backlog > 0 ? await backlogDrain(ctx, backlog, backlog, '1.0') : null;
    log('restart with the backlog’s markers on the servers');
    const restarted = backlog > 0 ? await readBack(ctx, backlog) : null;
    log(`burst: ${burst} events for ${burstSubjects} users`);
    const coalesced = burst > 0 ? await backlogDrain(ctx, burst, burstSubjects) : null;
    const purge = [];
    for (const tokens of purgeSizes) {
      log(`purge: ${tokens} cached tokens per server`);
      purge.push(await measurePurge(tokens));
    }
    const indexed = [];
    for (const entries of indexSizes) {
      log(`index: ${entries} cached tokens per server`);
      indexed.push(
        await indexPurge(entries, {
          publisher,
          pool: POOL,
          startDaemon: (extra, servers) => ctx.startDaemon(extra, servers),
          endDaemon: (d) => ctx.endDaemon(d),
        }),
      );
    }
    log(`revocation: Keystone, ${revocationIdle} s idle, ${revocations} tokens revoked`);
    const revocation =
      revocations > 0
        ? await revocationPhase({
            revocations,
            idleSeconds: revocationIdle,
            keystoneCache: !values['keystone-no-cache'],
            startDaemon: (extra) => ctx.startDaemon(extra),
            endDaemon: (d) => ctx.endDaemon(d),
          })
        : null;
    const result: BenchResult = {
      machine: machine(Number((await stats(SERVERS[0])).limit_maxbytes ?? 0) / 2 ** 20),
      settings: { nodeFlags, env: daemonEnv, memoryLimitMb },
      floor,
      latency: runs.length > 0 ? { runs, median: medianBy(runs, (r) => r.p99Ms) } : null,
      backlog: drained,
      drains,
      listener,
      backlogAmqp10: drainedAmqp10,
      readBack: restarted,
      burst: coalesced,
      purge,
      indexed,
      revocation,
      targets: TARGETS,
    };
    if (values.json) console.log(JSON.stringify(result, null, 2));
    else printReport(result);
  } finally {
    await publisher.close();
  }
}

await main().catch((error: unknown) => {
  console.error(`bench: ${(error as Error).message}`);
  process.exitCode = 1;
});
