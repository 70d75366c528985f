import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { writeMarker, writeMarkers } from '../../src/actions/write-marker.ts';
import { MemcachedConnection } from '../../src/adapters/memcached/connection.ts';
import { parseMemcachedServer } from '../../src/config/memcached-servers.ts';
import { CacheConnectionClosed, CacheTimeout, CacheUnreachable } from '../../src/ports/cache-errors.ts';
import { startBlackhole } from '../support/blackhole.ts';
import { command, get, SERVERS, set, stats } from '../support/memcached-probe.ts';
import { startMemcached } from '../support/tls.ts';

const options = { connectTimeoutMs: 500, requestTimeoutMs: 300, tls: null };
const open: MemcachedConnection[] = [];
const connect = (server: string) => {
  const c = new MemcachedConnection(parseMemcachedServer(server), options);
  open.push(c);
  return c;
};
const freshKey = () => `kci-test:v1:user:${randomBytes(8).toString('hex')}`;

afterEach(() => {
  for (const c of open.splice(0)) c.close();
});

describe('marker writes on a real memcached', () => {
  it('creates an absent marker with the given TTL', async () => {
    const key = freshKey();
    expect(await writeMarker(connect(SERVERS[0]), key, 1_800_000_000_000, 60)).toBe('written');
    expect(await get(SERVERS[0], key)).toBe('1800000000000');
  });

  it('moves a marker forward', async () => {
    const key = freshKey();
    const c = connect(SERVERS[0]);
    await writeMarker(c, key, 1000, 60);
    expect(await writeMarker(c, key, 2000, 60)).toBe('written');
    expect(await get(SERVERS[0], key)).toBe('2000');
  });

  it('never moves a marker backwards', async () => {
    const key = freshKey();
    const c = connect(SERVERS[0]);
    await writeMarker(c, key, 2000, 60);
    expect(await writeMarker(c, key, 1000, 60)).toBe('already-newer');
    expect(await get(SERVERS[0], key)).toBe('2000');
  });

  it('replaces a value that is not a marker', async () => {
    const key = freshKey();
    await set(SERVERS[0], key, 'garbage');
    expect(await writeMarker(connect(SERVERS[0]), key, 5000, 60)).toBe('written');
    expect(await get(SERVERS[0], key)).toBe('5000');
  });

  it('ends at the newest value when many writers race on one key (replicas on separate connections)', async () => {
    const key = freshKey();
    const writers = Array.from({ length: 8 }, () => connect(SERVERS[1]));
    const values = Array.from({ length: 64 }, (_, i) => 1_000_000 + ((i * 7919) % 64) * 10);
    await Promise.all(
      values.map((v, i) => writeMarker(writers[i % writers.length] as MemcachedConnection, key, v, 60)),
    );
    expect(Number(await get(SERVERS[1], key))).toBe(Math.max(...values));
  });

  it('pipelines many requests on one connection and matches every reply', async () => {
    const c = connect(SERVERS[0]);
    const keys = Array.from({ length: 200 }, freshKey);
    await Promise.all(keys.map((k, i) => c.add(k, String(i), 60)));
    const found = await c.gets(keys);
    expect(keys.map((k) => found.get(k)?.value.toString())).toEqual(keys.map((_, i) => String(i)));
  });
});

describe('marker writes that expect the key to be absent (a first marker for its subject)', () => {
  it('cost one add and no read', async () => {
    const server = await startMemcached(['-m', '16']);
    onTestFinished(() => server.stop());
    const before = await stats(server.address);
    expect(await writeMarker(connect(server.address), freshKey(), 1000, 60, 'absent')).toBe('written');
    const after = await stats(server.address);
    expect(after.cmd_get).toBe(before.cmd_get);
    expect((after.cmd_set ?? 0) - (before.cmd_set ?? 0)).toBe(1);
  });

  it('still never move a marker backwards, and still move it forward or replace a non-marker', async () => {
    const c = connect(SERVERS[0]);
    const [newer, older, garbage] = [freshKey(), freshKey(), freshKey()];
    await writeMarker(c, newer, 2000, 60);
    await writeMarker(c, older, 1000, 60);
    await set(SERVERS[0], garbage, 'garbage');
    expect(await writeMarker(c, newer, 1500, 60, 'absent')).toBe('already-newer');
    expect(await writeMarker(c, older, 1500, 60, 'absent')).toBe('written');
    expect(await writeMarker(c, garbage, 1500, 60, 'absent')).toBe('written');
    expect([
      await get(SERVERS[0], newer),
      await get(SERVERS[0], older),
      await get(SERVERS[0], garbage),
    ]).toEqual(['2000', '1500', '1500']);
  });
});

describe('re-asserting many markers on one server (writeMarkers)', () => {
  const casUnique = async (key: string) =>
    /^VALUE \S+ \d+ \d+ (\d+)/m.exec(await command(SERVERS[1], `gets ${key}`, /END\r\n$/))?.[1];

  it('writes what is absent, older or not a marker, and leaves what the server holds as new untouched', async () => {
    const c = connect(SERVERS[1]);
    const [absent, older, same, newer, garbage] = [
      freshKey(),
      freshKey(),
      freshKey(),
      freshKey(),
      freshKey(),
    ];
    await writeMarker(c, older, 1000, 60);
    await writeMarker(c, same, 5000, 60);
    await writeMarker(c, newer, 9000, 60);
    await set(SERVERS[1], garbage, 'garbage');
    const untouched = [await casUnique(same), await casUnique(newer)];
    await writeMarkers(
      c,
      [absent, older, same, newer, garbage].map((key) => ({ key, valueMs: 5000, ttlSeconds: 60 })),
    );
    const values = await Promise.all([absent, older, same, newer, garbage].map((k) => get(SERVERS[1], k)));
    expect(values).toEqual(['5000', '5000', '5000', '9000', '5000']);
    expect([await casUnique(same), await casUnique(newer)]).toEqual(untouched);
  });
});

describe('memcached failures', () => {
  it('reports a server that refuses connections as unreachable', async () => {
    const c = connect('127.0.0.1:1');
    await expect(c.version()).rejects.toBeInstanceOf(CacheUnreachable);
    expect(c.up).toBe(false);
  });

  it('times out a server that never answers, and recovers on the next request once it does', async () => {
    const hole = await startBlackhole();
    const c = connect(hole.address);
    const reply = c.version();
    await expect(reply).rejects.toThrow(/no reply within 300 ms/);
    await expect(reply).rejects.toBeInstanceOf(CacheTimeout);
    await hole.close();
    const good = connect(SERVERS[0]);
    expect(await good.version()).toMatch(/^\d+\.\d+\.\d+/);
    expect(good.up).toBe(true);
  });

  it('rejects keys memcached would refuse before sending anything', async () => {
    const c = connect(SERVERS[0]);
    await expect(c.gets(['has space'])).rejects.toThrow(RangeError);
    await expect(c.delete('x'.repeat(251))).rejects.toThrow(/printable ASCII/);
    expect(await c.version()).toBeTruthy();
  });
});

describe('closing a connection', () => {
  it('while it connects leaves no socket behind and fails the waiting request', async () => {
    const c = new MemcachedConnection(parseMemcachedServer(SERVERS[0]), options);
    const pending = c.version();
    c.close();
    await expect(pending).rejects.toBeInstanceOf(CacheConnectionClosed);
    expect(c.up).toBe(false);
    await expect(c.version()).rejects.toThrow(/connection closed/);
  });
});

describe('large replies', () => {
  it('reads 100 values of 300 KB in one gets within the default 1 s inactivity timeout', async () => {
    // 30 MB of values: a server of its own, so nothing is evicted.
    const server = await startMemcached(['-m', '256', '-I', '2m']);
    onTestFinished(() => server.stop());
    const c = new MemcachedConnection(parseMemcachedServer(server.address), {
      ...options,
      requestTimeoutMs: 1000,
    });
    open.push(c);
    const value = 'v'.repeat(300_000);
    const keys = Array.from({ length: 100 }, freshKey);
    await Promise.all(keys.map((k) => c.add(k, value, 60)));
    const found = await c.gets(keys);
    expect(found.size).toBe(100);
    expect([...found.values()].every((item) => item.value.length === 300_000)).toBe(true);
  });
});
