import { describe, expect, it } from 'vitest';
import { harvestMarkers } from '../../src/actions/harvest-markers.ts';
import { KeystoneRegionsAction } from '../../src/actions/keystone-regions.ts';
import { MarkersAction } from '../../src/actions/markers.ts';
import { type RecoveryObserver, ServerRecovery } from '../../src/actions/server-recovery.ts';
import { regionKey } from '../../src/core/keystone-regions.ts';
import { target } from '../../src/core/targets.ts';
import { ManualClock, MemoryCacheServer } from '../support/memory-cache-server.ts';
import { MARKER_SETTINGS, NO_OBSERVERS } from '../support/memory-pipeline.ts';

const REGIONS = { always: ['tokens'], onProjectOrDomainChange: [], onAssignmentChange: [], repeatAfterMs: 0 };
const LISTING = {
  prefix: 'kci',
  ttlSeconds: 3600,
  clockSkewMarginMs: 2_000,
  limits: { timeoutMs: 1000, idleMs: 100, maxKeys: 10_000 },
};

function setup() {
  const clock = new ManualClock();
  const servers = [new MemoryCacheServer('a:1', clock.now), new MemoryCacheServer('b:1', clock.now)] as const;
  const markers = new MarkersAction(servers, MARKER_SETTINGS, clock.now, NO_OBSERVERS.markers);
  const regions = new KeystoneRegionsAction(servers, REGIONS, NO_OBSERVERS.keystoneRegions);
  const seen: string[] = [];
  const observer: RecoveryObserver = {
    wiped: (server) => seen.push(`wiped ${server}`),
    replayed: (server, action, items) => seen.push(`replayed ${action} ${items} to ${server}`),
    replayFailed: (server, action) => seen.push(`replay of ${action} to ${server} failed`),
    readBack: (server, found) =>
      seen.push(`read back ${typeof found === 'number' ? found : 'error'} from ${server}`),
  };
  const settings = { sentinelKey: 'kci:alive:unit', sentinelTtlSeconds: 600 };
  const recovery = new ServerRecovery(servers, [markers, regions], markers, settings, observer);
  return { clock, servers, markers, regions, recovery, seen };
}

const running = new AbortController().signal;

describe('server recovery, on in-memory servers', () => {
  it('a server found again by the probe is given what it missed: markers and region deletions', async () => {
    const { servers, markers, regions, recovery, seen } = setup();
    const [a, b] = servers;
    await recovery.probe(running);
    b.goAway();
    await markers.apply([target('user', 'u1')]);
    await regions.apply(['tokens']);
    expect(markers.pending(b.name)).toBe(1);
    expect(regions.pending(b.name)).toBe(1);
    b.comeBack();
    await b.add(regionKey('tokens'), 'pickle', 600);
    await recovery.probe(running);
    expect(b.keys()).toEqual(['kci:alive:unit', 'kci:v1:user:u1']);
    expect(a.keys()).toEqual(['kci:alive:unit', 'kci:v1:user:u1']);
    expect(seen).toEqual(['replayed markers 1 to b:1', 'replayed keystoneRegions 1 to b:1']);
  });

  it('a server that lost its data (the sentinel is gone) gets every live marker again', async () => {
    const { servers, markers, recovery, seen } = setup();
    await recovery.probe(running);
    await markers.apply([target('user', 'u1'), target('project', 'p1')]);
    servers[0].wipe();
    await recovery.probe(running);
    expect(seen).toEqual(['wiped a:1', 'replayed markers 2 to a:1']);
    expect(servers[0].keys()).toEqual(['kci:alive:unit', 'kci:v1:project:p1', 'kci:v1:user:u1']);
  });

  it('the first sight of a server without the sentinel is no wipe (it is new to this daemon)', async () => {
    const { recovery, seen } = setup();
    await recovery.probe(running);
    expect(seen).toEqual([]);
  });

  it('re-assertion puts back a marker a server evicted', async () => {
    const { servers, markers, recovery } = setup();
    await recovery.probe(running);
    await markers.apply([target('user', 'u1')]);
    servers[1].evict('kci:v1:user:u1');
    recovery.reassertEverywhere();
    await recovery.probe(running);
    expect(servers[1].keys()).toContain('kci:v1:user:u1');
  });

  it('a starting daemon reads back the markers a server holds and owes them to the server that lacks them', async () => {
    const { clock, servers, markers, recovery, seen } = setup();
    const [a, b] = servers;
    const value = String(clock.now() - 5_000);
    await a.add('kci:v1:user:before-restart', value, 3600);
    await b.version();
    const found = { remember: markers.remember.bind(markers), ignored: () => {} };
    await recovery.readBack((server, s) => harvestMarkers(server, LISTING, found, clock.now(), s), running);
    expect(seen.sort()).toEqual(['read back 0 from b:1', 'read back 1 from a:1']);
    await recovery.probe(running);
    expect(
      (await b.gets(['kci:v1:user:before-restart'])).get('kci:v1:user:before-restart')?.value.toString(),
    ).toBe(value);
  });

  it.each([
    ['a value past 2^53 - 1 (no exact number)', () => '9999999999999999', 'not-a-marker'],
    ['a value that is no marker', () => 'pickle', 'not-a-marker'],
    [
      'a marker dated more than the skew margin and 5 minutes ahead',
      (now: number) => String(now + 302_001),
      'too-far-ahead',
    ],
  ])('read-back spreads no %s: it is counted and left where it is', async (_what, value, reason) => {
    const { clock, servers, markers, recovery, seen } = setup();
    const [a, b] = servers;
    await a.add('kci:v1:user:planted', value(clock.now()), 3600);
    await a.add('kci:v1:user:fine', String(clock.now() + 302_000), 3600);
    await b.version();
    const ignored: string[] = [];
    const found = { remember: markers.remember.bind(markers), ignored: (r: string) => ignored.push(r) };
    await recovery.readBack((server, s) => harvestMarkers(server, LISTING, found, clock.now(), s), running);
    expect(seen.sort()).toEqual(['read back 0 from b:1', 'read back 1 from a:1']);
    expect(ignored).toEqual([reason]);
    await recovery.probe(running);
    expect(b.keys()).toEqual(['kci:alive:unit', 'kci:v1:user:fine']);
  });

  it('does nothing once its signal has aborted (the daemon is stopping)', async () => {
    const { servers, markers, recovery } = setup();
    await recovery.probe(running);
    await markers.apply([target('user', 'u1')]);
    servers[0].wipe();
    const stopped = new AbortController();
    stopped.abort();
    await recovery.check(stopped.signal);
    expect(servers[0].keys()).toEqual([]);
  });
});
