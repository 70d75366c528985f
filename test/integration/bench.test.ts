import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/paths.ts';

// `npm run bench` is not part of the suite (its figures are timings), but it must keep running: this
// drives every phase at a tiny size and checks that each one produced its figures. No timing is asserted.
describe('npm run bench -- --json', () => {
  it('runs every phase against the real services and reports each figure', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        resolve(REPO_ROOT, 'scripts/bench.ts'),
        ...'--rate 500 --count 200 --runs 2 --backlog 500 --drain-runs 1 --burst 300 --burst-subjects 10'.split(
          ' ',
        ),
        ...'--purge 1000 --index-purge 1000 --revocations 2 --revocation-idle 3 --json'.split(' '),
      ],
      { cwd: REPO_ROOT, timeout: 150_000 },
    );
    const r = JSON.parse(stdout);
    expect(r.settings.nodeFlags).toEqual(['--max-semi-space-size=4']);
    expect(r.settings.env).toEqual({
      MALLOC_ARENA_MAX: '2',
      MALLOC_TRIM_THRESHOLD_: '131072',
      MALLOC_MMAP_THRESHOLD_: '131072',
    });
    expect(r.floor.events).toBe(200);
    expect(r.latency.runs).toHaveLength(2);
    const run = r.latency.median;
    expect(run.events).toBe(200);
    expect(run.p50Ms).toBeGreaterThan(0);
    expect(run.maxMs).toBeGreaterThanOrEqual(run.p999Ms);
    expect(run.p999Ms).toBeGreaterThanOrEqual(run.p99Ms);
    // Each event is for a new user: nothing to coalesce.
    expect(run.coalescingRatio).toBe(1);
    expect(run.daemon.peakRssMb).toBeGreaterThan(0);
    expect(r.backlog.events).toBe(500);
    expect(r.backlog.eventsPerSecond).toBeGreaterThan(0);
    expect(r.backlog.startToConsumingSeconds).toBeGreaterThan(0);
    expect(r.backlog.startToConsumingSeconds).toBeLessThan(r.backlog.drainSeconds);
    // The broker's floor drained the same backlog first; the daemon's share of it is reported.
    expect(r.drains).toHaveLength(1);
    expect(r.drains[0].floor).toMatchObject({ events: 500 });
    expect(r.drains[0].share).toBeCloseTo(r.drains[0].floor.drainSeconds / r.backlog.drainSeconds, 1);
    // An oslo.messaging listener (Python) drained the same backlog; the report sets the daemon beside it.
    expect(r.listener).toMatchObject({ events: 500 });
    expect(r.listener.eventsPerSecond).toBeGreaterThan(0);
    expect(r.backlogAmqp10).toMatchObject({ events: 500, subjects: 500 });
    expect(r.backlogAmqp10.eventsPerSecond).toBeGreaterThan(0);
    expect(r.readBack.markersOnServers).toBe(500);
    expect(r.readBack.reassertedSeconds).toBeGreaterThanOrEqual(r.readBack.readBackSeconds);
    expect(r.burst).toMatchObject({ events: 300, subjects: 10 });
    // Ten users, 300 events: some are covered by a write already under way (how many is timing).
    expect(r.burst.coalescingRatio).toBeGreaterThanOrEqual(1);
    // 1 % of 1,000 cached tokens on each of the two servers belong to the invalidated user.
    expect(r.purge).toEqual([
      expect.objectContaining({ tokensPerServer: 1000, keysListed: 2000, entriesDeleted: 20 }),
    ]);
    // The purge with the index: built, measured, timed.
    expect(r.indexed).toEqual([expect.objectContaining({ entriesPerServer: 1000, servers: 2 })]);
    expect(r.indexed[0].purge.maxMs).toBeGreaterThan(0);
    expect(r.indexed[0].rssMb).toBeGreaterThan(0);
    // A real Keystone: the poller's idle cost, and two revocations timed to their markers.
    expect(r.revocation.idle.pollsPerSecond).toBeGreaterThan(0);
    expect(r.revocation.idle.meanPollMs).toBeGreaterThan(0);
    expect(r.revocation.revocations).toBe(2);
    expect(r.revocation.revokeToMarker.maxMs).toBeGreaterThanOrEqual(r.revocation.revokeToMarker.p50Ms);
    expect(r.targets).toEqual({
      p99Ms: 10,
      atRate: 2000,
      backlogOf100000InSeconds: 10,
      rssMb: 100,
      drainShareOfFloor: 0.5,
      drainTimesListener: 10,
    });
  }, 180_000);
});
