import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { flushAll, SERVERS } from '../../test/support/memcached-probe.ts';
import type { BenchContext } from './phases.ts';
import { round } from './stats.ts';

export interface ListenerDrainFigures {
  readonly events: number;
  /** From the listener process's start to its last notification handled. */
  readonly drainSeconds: number;
  readonly eventsPerSecond: number;
}

const SCRIPT = new URL('./oslo-listener.py', import.meta.url).pathname;
/** Debian's OpenStack libraries import only under the system Python. */
const PYTHON = '/usr/bin/python3';

/**
 * The same backlog drained by what the daemon replaces (scripts/bench/oslo-listener.py: an
 * oslo.messaging notification listener, pool queue, threading executor, python-memcached), timed from
 * its process's start as the daemon's drain is. Its own queue: oslo 14 declares a pool queue with no
 * arguments, and a declaration with other arguments would be refused.
 */
export async function listenerDrain(ctx: BenchContext, events: number): Promise<ListenerDrainFigures> {
  const queue = `${ctx.pool}-oslo`;
  await ctx.publisher.freshQueue(queue, {});
  const run = ctx.runId();
  await ctx.publisher.all(events, (seq) => `${run}-${seq}`);
  await flushAll();
  const startedAt = performance.timeOrigin + performance.now();
  const args = [SCRIPT, ctx.brokerUrl.replace(/^amqp:/, 'rabbit:'), ctx.publisher.exchange, queue];
  const { stdout } = await promisify(execFile)(PYTHON, [...args, String(events), ...SERVERS], {
    timeout: 600_000,
  });
  // Deleted at once: bound to the bench's exchange, it would take a copy of every later phase's events.
  await ctx.publisher.channel.deleteQueue(queue);
  const { lastAt } = JSON.parse(stdout) as { lastAt: number };
  const drainSeconds = (lastAt - startedAt) / 1000;
  return { events, drainSeconds: round(drainSeconds), eventsPerSecond: Math.round(events / drainSeconds) };
}
