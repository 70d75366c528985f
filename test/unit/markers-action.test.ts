import { describe, expect, it } from 'vitest';
import { type MarkerSettings, MarkersAction } from '../../src/actions/markers.ts';
import { GLOBAL, type Target, target } from '../../src/core/targets.ts';
import { ManualClock, MemoryCacheServer } from '../support/memory-cache-server.ts';
import { MARKER_SETTINGS, NO_OBSERVERS } from '../support/memory-pipeline.ts';

function setup(settings: Partial<MarkerSettings> = {}) {
  const clock = new ManualClock();
  const servers = [new MemoryCacheServer('a:1', clock.now), new MemoryCacheServer('b:1', clock.now)] as const;
  const action = new MarkersAction(
    servers,
    { ...MARKER_SETTINGS, ...settings },
    clock.now,
    NO_OBSERVERS.markers,
  );
  const value = async (server: MemoryCacheServer, key: string) =>
    (await server.gets([key])).get(key)?.value.toString() ?? null;
  return { clock, servers, action, value };
}

const USER = target('user', 'u1');
const signal = new AbortController().signal;

describe('the markers action, on in-memory servers', () => {
  it('writes each marker on every server, dated now plus the skew margin, for the TTL', async () => {
    const { clock, servers, action, value } = setup();
    await action.apply([USER, target('project', 'p1')]);
    const at = String(clock.now() + 2000);
    for (const server of servers) {
      expect(await value(server, 'kci:v1:user:u1')).toBe(at);
      expect(await value(server, 'kci:v1:project:p1')).toBe(at);
    }
    clock.advance(3600_000);
    for (const server of servers) expect(server.keys()).toEqual([]);
  });

  it('a marker it does not remember goes in one command per server; one it remembers by gets and cas', async () => {
    const { clock, servers, action } = setup();
    await action.apply([USER]);
    expect(servers.map((s) => s.commands)).toEqual([1, 1]);
    clock.advance(1000);
    await action.apply([USER]);
    expect(servers.map((s) => s.commands)).toEqual([3, 3]);
  });

  it('a batch of markers it does not remember is one request per server, whatever its size', async () => {
    const { servers, action } = setup();
    await action.apply(Array.from({ length: 50 }, (_, i) => target('user', `u${i}`)));
    expect(servers.map((s) => s.commands)).toEqual([1, 1]);
    for (const server of servers) expect(server.keys()).toHaveLength(50);
  });

  it('in one batch: absent markers added, older ones swapped, newer ones left', async () => {
    const { clock, servers, action, value } = setup();
    const [a, b] = servers;
    await b.version();
    const newer = String(clock.now() + 60_000);
    await a.add('kci:v1:user:older', String(clock.now() - 60_000), 600);
    await a.add('kci:v1:user:newer', newer, 600);
    await action.apply(['older', 'newer', 'absent'].map((u) => target('user', u)));
    const at = String(clock.now() + 2000);
    expect(await value(a, 'kci:v1:user:older')).toBe(at);
    expect(await value(a, 'kci:v1:user:newer')).toBe(newer);
    for (const server of servers) expect(await value(server, 'kci:v1:user:absent')).toBe(at);
  });

  it('never moves a marker back: a newer one on the server stays', async () => {
    const { clock, servers, action, value } = setup();
    await servers[1].version();
    await servers[0].add('kci:v1:user:u1', String(clock.now() + 60_000), 600);
    await action.apply([USER]);
    expect(await value(servers[0], 'kci:v1:user:u1')).toBe(String(clock.now() + 60_000));
    expect(await value(servers[1], 'kci:v1:user:u1')).toBe(String(clock.now() + 2000));
  });

  it('a server that is away misses the write but is owed every live marker, given when it is back', async () => {
    const { servers, action, value } = setup();
    const [a, b] = servers;
    await Promise.all(servers.map((s) => s.version()));
    b.goAway();
    await action.apply([USER]);
    expect(action.pending(b.name)).toBe(1);
    expect(b.keys()).toEqual([]);
    b.comeBack();
    await action.replay(b.name, signal);
    expect(action.pending(b.name)).toBe(0);
    expect(await value(b, 'kci:v1:user:u1')).toBe(await value(a, 'kci:v1:user:u1'));
  });

  it('a server that lost its data gets the live markers again, with their original time', async () => {
    const { clock, servers, action, value } = setup();
    await action.apply([USER]);
    const original = await value(servers[1], 'kci:v1:user:u1');
    servers[1].wipe();
    clock.advance(10_000);
    action.owe(servers[1].name);
    await action.replay(servers[1].name, signal);
    expect(await value(servers[1], 'kci:v1:user:u1')).toBe(original);
  });

  it('a replay that fails keeps the debt for the next one', async () => {
    const { servers, action } = setup();
    await action.apply([USER]);
    action.owe(servers[1].name);
    servers[1].goAway();
    await expect(action.replay(servers[1].name, signal)).rejects.toThrow(/b:1/);
    expect(action.pending(servers[1].name)).toBe(1);
  });

  it('rejects a batch that reached no server, so the coalescer retries it', async () => {
    const { servers, action } = setup();
    for (const server of servers) server.goAway();
    await expect(action.apply([USER])).rejects.toThrow(/reached no server/);
  });

  it('past liveLimit the oldest markers fold into the global one, with the newest time among them', async () => {
    const { clock, servers, action, value } = setup({ liveLimit: 3 });
    const targets: Target[] = ['a', 'b', 'c', 'd', 'e'].map((id) => target('user', id));
    const writtenAt: number[] = [];
    for (const t of targets) {
      writtenAt.push(clock.now() + 2000);
      await action.apply([t]);
      clock.advance(1000);
    }
    expect(action.liveCount).toBe(3);
    // What a server that lost everything is given: the two newest, and the global one for the rest.
    servers[1].wipe();
    action.owe(servers[1].name);
    await action.replay(servers[1].name, signal);
    expect(servers[1].keys()).toEqual(['kci:v1:global', 'kci:v1:user:d', 'kci:v1:user:e']);
    expect(await value(servers[1], 'kci:v1:global')).toBe(String(writtenAt[2]));
  });

  it('markers.mode global turns any target into the global marker', async () => {
    const { servers, action } = setup({ mode: 'global' });
    const planned = action.plan({ event: { eventType: 'x' } as never, targets: [USER] });
    expect(planned).toEqual([GLOBAL]);
    await action.apply(planned);
    for (const server of servers) expect(server.keys()).toEqual(['kci:v1:global']);
  });
});
