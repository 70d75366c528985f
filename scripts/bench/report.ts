import type { IndexPurgeFigures } from './index-purge.ts';
import type { ListenerDrainFigures } from './oslo-listener-drain.ts';
import type {
  BacklogFigures,
  DrainFloorFigures,
  FloorFigures,
  LatencyFigures,
  ReadBackFigures,
} from './phases.ts';
import type { PurgeFigures } from './purge-scan.ts';
import type { RevocationFigures } from './revocation-phase.ts';
import type { Percentiles } from './stats.ts';

export const TARGETS = {
  p99Ms: 10,
  atRate: 2000,
  backlogOf100000InSeconds: 10,
  rssMb: 100,
  drainShareOfFloor: 0.5,
  drainTimesListener: 10,
} as const;

/** One backlog drained by the broker's floor, then by the daemon; share = floor time / daemon time. */
export interface DrainRun {
  readonly floor: DrainFloorFigures | null;
  readonly daemon: BacklogFigures;
  readonly share: number | null;
}

export interface BenchResult {
  readonly machine: Record<string, unknown>;
  readonly settings: {
    readonly nodeFlags: readonly string[];
    readonly env: Readonly<Record<string, string>>;
    readonly memoryLimitMb: number | null;
  };
  readonly floor: FloorFigures | null;
  readonly latency: { readonly runs: readonly LatencyFigures[]; readonly median: LatencyFigures } | null;
  /** The median of `drains` by the daemon's drain time. */
  readonly backlog: BacklogFigures | null;
  readonly drains: readonly DrainRun[];
  /** The same backlog drained by an oslo.messaging listener (the approach the daemon replaces). */
  readonly listener: ListenerDrainFigures | null;
  readonly backlogAmqp10: BacklogFigures | null;
  readonly readBack: ReadBackFigures | null;
  readonly burst: BacklogFigures | null;
  readonly purge: readonly PurgeFigures[];
  readonly indexed: readonly IndexPurgeFigures[];
  readonly revocation: RevocationFigures | null;
  readonly targets: typeof TARGETS;
}

const ms = (p: Percentiles) =>
  `p50 ${p.p50Ms}   p90 ${p.p90Ms}   p99 ${p.p99Ms}   p99.9 ${p.p999Ms}   max ${p.maxMs} ms`;
const met = (ok: boolean) => (ok ? 'met' : 'NOT met');

/** The human table: each figure beside its target (reported, never enforced). */
export function printReport(r: BenchResult): void {
  const lines: string[] = [];
  const flags = r.settings.nodeFlags.join(' ') || '(none)';
  const limit =
    r.settings.memoryLimitMb === null ? 'no memory limit' : `memory limit ${r.settings.memoryLimitMb} MiB`;
  const env = Object.entries(r.settings.env).map(([name, value]) => `${name}=${value} `);
  lines.push(`daemon: ${env.join('')}node ${flags}; ${limit}`);
  if (r.floor)
    lines.push(
      `\nbroker alone, publish → consumer (${r.floor.events} at ${r.floor.rate}/s)\n  ${ms(r.floor)}`,
    );
  if (r.latency) {
    const m = r.latency.median;
    lines.push(
      `\ninvalidation latency, publish → marker on every server (${m.events} events at ${m.rate}/s)`,
    );
    for (const [i, run] of r.latency.runs.entries()) {
      lines.push(
        `  run ${i + 1}: ${ms(run)}   daemon CPU ${run.daemon.cpuPercent} %, waited for a CPU ${run.daemon.waitedForCpuPercent} %; machine busy ${run.machine.busyPercent} % (stolen ${run.machine.stealPercent} %)`,
      );
    }
    lines.push(
      `  median run (by p99): ${ms(m)}   target p99 ≤ ${TARGETS.p99Ms} ms: ${met(m.p99Ms <= TARGETS.p99Ms)}`,
    );
    const lag = Object.entries(m.daemonLag).map(
      ([k, v]) => `${k.replace(/within(\d+)Ms/, '≤ $1 ms')} ${Math.round(v * 100)} %`,
    );
    lines.push(`  the daemon's own lag (timestamp → written on a server): ${lag.join('   ')}`);
    lines.push(
      `  the daemon's event loop delay: p99 ${m.eventLoopDelay.p99Ms} ms, max ${m.eventLoopDelay.maxMs} ms`,
    );
    lines.push(
      `  throughput ${m.throughputPerSecond}/s   coalescing ${m.coalescingRatio}   peak RSS ${m.daemon.peakRssMb} MB (anonymous ${m.daemon.peakRssAnonMb} MB)   target ≤ ${TARGETS.rssMb} MB: ${met(m.daemon.peakRssMb <= TARGETS.rssMb)}`,
    );
  }
  if (r.drains.length > 0) {
    lines.push(`\nbacklog drain over AMQP 0-9-1, each timed from the process's start to its last ack`);
    for (const [i, d] of r.drains.entries()) {
      const floor =
        d.floor === null ? 'no floor' : `floor ${d.floor.drainSeconds} s (${d.floor.eventsPerSecond}/s)`;
      const share =
        d.share === null
          ? ''
          : `   share of the floor ${d.share}, target ≥ ${TARGETS.drainShareOfFloor}: ${met(d.share >= TARGETS.drainShareOfFloor)}`;
      lines.push(
        `  run ${i + 1}: ${floor}   daemon ${d.daemon.drainSeconds} s (${d.daemon.eventsPerSecond}/s, consuming after ${d.daemon.startToConsumingSeconds} s)${share}`,
      );
    }
  }
  if (r.listener && r.backlog) {
    const l = r.listener;
    const times = Math.round((l.drainSeconds / r.backlog.drainSeconds) * 10) / 10;
    lines.push(
      `  an oslo.messaging listener (pool queue, threading executor, python-memcached): ${l.drainSeconds} s (${l.eventsPerSecond}/s); the daemon's median run ${times}× it, target ≥ ${TARGETS.drainTimesListener}×: ${met(times >= TARGETS.drainTimesListener)}`,
    );
  }
  for (const [b, over] of [
    [r.backlog, 'AMQP 0-9-1 (the median run)'],
    [r.backlogAmqp10, 'AMQP 1.0'],
  ] as const) {
    if (!b) continue;
    const target = Math.round((TARGETS.backlogOf100000InSeconds * b.events) / 100_000);
    lines.push(
      `\nbacklog drain over ${over} (${b.events} events waiting at start)\n  ${b.drainSeconds} s   ${b.eventsPerSecond}/s   daemon CPU ${b.daemon.cpuPercent} %   peak RSS ${b.daemon.peakRssMb} MB (anonymous ${b.daemon.peakRssAnonMb} MB; ${b.rssAfterDrainMb} MB after)   target ≤ ${target} s: ${met(b.drainSeconds <= target)}`,
    );
  }
  const rb = r.readBack;
  if (rb) {
    lines.push(
      `\nrestart with ${rb.markersOnServers} live markers on the servers\n  all read back ${rb.readBackSeconds} s   re-asserted on every server ${rb.reassertedSeconds} s   peak RSS ${rb.daemon.peakRssMb} MB`,
    );
  }
  const burst = r.burst;
  if (burst) {
    lines.push(
      `\nburst of ${burst.events} events for ${burst.subjects} users, waiting at start\n  coalescing ${burst.coalescingRatio} (markers asked for / written)   ${burst.drainSeconds} s   ${burst.eventsPerSecond}/s`,
    );
  }
  for (const p of r.purge) {
    lines.push(
      `\nmiddlewarePurge, ${p.tokensPerServer} cached tokens on each of ${p.servers} servers\n  listing ${p.listingMs} ms   whole purge ${p.purgeMs} ms   ${p.entriesPerSecond} entries/s   deleted ${p.entriesDeleted}`,
    );
  }
  for (const x of r.indexed) {
    lines.push(
      `\nmiddlewarePurge with the index, ${x.entriesPerServer} cached tokens on each of ${x.servers} servers\n  indexes built in ${x.buildSeconds} s   idle RSS ${x.rssMb} MB; per indexed entry ${x.rssBytesPerEntry} bytes of RSS, ${x.heapBytesPerEntry} of heap\n  publish → the user's entries gone from every server: ${ms(x.purge)}`,
    );
  }
  const rv = r.revocation;
  if (rv) {
    lines.push(
      `\nrevocation poller on a real Keystone, default interval\n  idle ${rv.idle.seconds} s: ${rv.idle.pollsPerSecond} polls/s, ${rv.idle.meanPollMs} ms each, Keystone CPU ${rv.idle.keystoneCpuPercent} %\n  ${rv.revocations} tokens revoked, DELETE /v3/auth/tokens → marker on every server: ${ms(rv.revokeToMarker)}`,
    );
  }
  console.log(lines.join('\n'));
}
