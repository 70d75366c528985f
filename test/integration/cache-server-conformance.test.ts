import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeMarker } from '../../src/actions/write-marker.ts';
import { MemcachedConnection } from '../../src/adapters/memcached/connection.ts';
import { parseMemcachedServer } from '../../src/config/memcached-servers.ts';
import { CacheConnectionClosed, isServerAway } from '../../src/ports/cache-errors.ts';
import type { CacheServer } from '../../src/ports/cache-server.ts';
import { SERVERS } from '../support/memcached-probe.ts';
import { ManualClock, MemoryCacheServer } from '../support/memory-cache-server.ts';
import { startProxy } from '../support/tcp-proxy.ts';
import { waitFor } from '../support/wait.ts';

/**
 * The CacheServer port's conformance suite: the same cases, with the same expected replies, against
 * the in-memory server the unit tests use and against the real memcached client on both local
 * servers. If the in-memory server passes here, a unit test on it tells the truth about memcached.
 */
interface Harness {
  readonly server: CacheServer;
  /** Epoch ms on the server's clock. */
  now(): number;
  passTime(ms: number): Promise<void>;
  goAway(): Promise<void>;
  comeBack(): Promise<void>;
  end(): Promise<void>;
}

const memory = async (): Promise<Harness> => {
  const clock = new ManualClock();
  const server = new MemoryCacheServer('memory:11211', clock.now);
  return {
    server,
    now: clock.now,
    passTime: async (ms) => clock.advance(ms),
    goAway: async () => server.goAway(),
    comeBack: async () => server.comeBack(),
    end: async () => server.close(),
  };
};

// Through a proxy of the test's own, so that the server can go away and come back.
const real = (address: string) => async (): Promise<Harness> => {
  const port = Number(address.split(':')[1]);
  const proxy = await startProxy(port);
  const server = new MemcachedConnection(parseMemcachedServer(`127.0.0.1:${proxy.port}`), {
    connectTimeoutMs: 500,
    requestTimeoutMs: 500,
    tls: null,
  });
  return {
    server,
    now: Date.now,
    passTime: (ms) => new Promise((r) => setTimeout(r, ms)),
    goAway: async () => {
      proxy.refuse(true);
      proxy.cutAll();
    },
    comeBack: async () => proxy.refuse(false),
    end: async () => {
      server.close();
      await proxy.close();
    },
  };
};

const HARNESSES: ReadonlyArray<readonly [string, () => Promise<Harness>]> = [
  ['the in-memory server', memory],
  [`memcached ${SERVERS[0]}`, real(SERVERS[0])],
  [`memcached ${SERVERS[1]}`, real(SERVERS[1])],
];

describe.each(HARNESSES)('the cache-server port: %s', (_name, start) => {
  let h: Harness;
  let s: CacheServer;
  // Keys of this test alone, which expire on their own.
  let prefix: string;
  const key = (name: string) => `${prefix}${name}`;
  const TTL = 60;

  beforeEach(async () => {
    h = await start();
    s = h.server;
    prefix = `kci-conformance-${randomBytes(6).toString('hex')}:`;
  });
  afterEach(async () => {
    await h.end();
  });

  it('gets answers only the keys it holds, each with its value, flags and a CAS unique', async () => {
    expect(await s.add(key('a'), 'alpha', TTL)).toBe('STORED');
    const found = await s.gets([key('a'), key('missing')]);
    expect([...found.keys()]).toEqual([key('a')]);
    const item = found.get(key('a'));
    expect(item?.value.toString()).toBe('alpha');
    expect(item?.flags).toBe(0);
    expect(item?.cas).toMatch(/^\d+$/);
    expect((await s.gets([key('missing')])).size).toBe(0);
  });

  it('add stores only what is absent', async () => {
    expect(await s.add(key('a'), 'first', TTL)).toBe('STORED');
    expect(await s.add(key('a'), 'second', TTL)).toBe('NOT_STORED');
    expect((await s.gets([key('a')])).get(key('a'))?.value.toString()).toBe('first');
  });

  it('addAll adds in one request what is absent, and answers each key in order', async () => {
    await s.add(key('b'), 'held', TTL);
    const entries = ['a', 'b', 'c'].map((k) => ({ key: key(k), value: `new-${k}`, ttlSeconds: TTL }));
    expect(await s.addAll(entries)).toEqual(['STORED', 'NOT_STORED', 'STORED']);
    const held = await s.gets(['a', 'b', 'c'].map(key));
    expect(['a', 'b', 'c'].map((k) => held.get(key(k))?.value.toString())).toEqual([
      'new-a',
      'held',
      'new-c',
    ]);
    expect(await s.addAll([])).toEqual([]);
    await expect(s.addAll([{ key: 'has space', value: 'v', ttlSeconds: TTL }])).rejects.toBeInstanceOf(
      RangeError,
    );
  });

  it('cas stores with the unique it read, refuses a stale one, and finds nothing to swap on a missing key', async () => {
    await s.add(key('a'), '1', TTL);
    const unique = (await s.gets([key('a')])).get(key('a'))?.cas as string;
    expect(await s.cas(key('a'), '2', TTL, unique)).toBe('STORED');
    expect(await s.cas(key('a'), '3', TTL, unique)).toBe('EXISTS');
    expect((await s.gets([key('a')])).get(key('a'))?.value.toString()).toBe('2');
    expect(await s.cas(key('missing'), '1', TTL, unique)).toBe('NOT_FOUND');
  });

  it('a CAS race between two writers that read the same unique: one wins, the other is told EXISTS', async () => {
    await s.add(key('a'), '0', TTL);
    const unique = (await s.gets([key('a')])).get(key('a'))?.cas as string;
    const answers = await Promise.all([s.cas(key('a'), 'x', TTL, unique), s.cas(key('a'), 'y', TTL, unique)]);
    expect(answers.sort()).toEqual(['EXISTS', 'STORED']);
  });

  it('concurrent marker writes end with the newest value, however they interleave', async () => {
    const values = Array.from({ length: 20 }, (_, i) => 1_000 + ((i * 7) % 20));
    await Promise.all(values.map((v) => writeMarker(s, key('marker'), v, TTL)));
    expect((await s.gets([key('marker')])).get(key('marker'))?.value.toString()).toBe(
      String(Math.max(...values)),
    );
  });

  it('delete removes a key once; touch resets the expiry of what exists', async () => {
    await s.add(key('a'), 'v', TTL);
    expect(await s.touch(key('a'), TTL * 2)).toBe('TOUCHED');
    expect(await s.delete(key('a'))).toBe('DELETED');
    expect(await s.delete(key('a'))).toBe('NOT_FOUND');
    expect(await s.touch(key('a'), TTL)).toBe('NOT_FOUND');
  });

  it('expiry: a negative TTL is expired at once, a short one after it passes, 0 never', async () => {
    expect(await s.add(key('gone'), 'v', -1)).toBe('STORED');
    await s.add(key('short'), 'v', 1);
    await s.add(key('never'), 'v', 0);
    await s.add(key('touched'), 'v', TTL);
    expect(await s.touch(key('touched'), -1)).toBe('TOUCHED');
    expect([...(await s.gets([key('gone'), key('short'), key('touched')])).keys()]).toEqual([key('short')]);
    await h.passTime(2_100);
    expect([...(await s.gets([key('short'), key('never')])).keys()]).toEqual([key('never')]);
    await s.delete(key('never'));
  });

  it('lists the keys under a prefix with their size and expiry, and nothing else', async () => {
    await s.add(key('b'), 'x'.repeat(100), TTL);
    await s.add(key('a'), 'y', TTL);
    await s.add(key('forever'), 'z', 0);
    await s.add(`${prefix.slice(0, -1)}-other:a`, 'w', TTL);
    const listing = await s.listKeys(prefix, { timeoutMs: 10_000, idleMs: 1_000, maxKeys: 1_000 });
    expect(listing.complete).toBe(true);
    const keys = [...listing.keys].sort((x, y) => x.key.localeCompare(y.key));
    expect(keys.map((k) => k.key)).toEqual([key('a'), key('b'), key('forever')]);
    expect(keys[1]?.size).toBeGreaterThanOrEqual(100);
    const expectedExp = Math.floor(h.now() / 1000) + TTL;
    expect(Math.abs((keys[0]?.exp as number) - expectedExp)).toBeLessThanOrEqual(2);
    expect(keys[2]?.exp).toBe(-1);
    await s.delete(key('forever'));
  });

  it('an aborted listing rejects with the abort', async () => {
    const stop = new AbortController();
    stop.abort();
    await expect(
      s.listKeys(prefix, { timeoutMs: 10_000, idleMs: 1_000, maxKeys: 1_000 }, stop.signal),
    ).rejects.toThrow(/abort/i);
  });

  it('refuses a key memcached would refuse, before sending anything', async () => {
    await expect(s.gets(['has space'])).rejects.toBeInstanceOf(RangeError);
    await expect(s.add('x'.repeat(251), 'v', TTL)).rejects.toBeInstanceOf(RangeError);
    expect(await s.version()).toMatch(/^\d+\.\d+/);
  });

  it('a server that goes away fails its commands as away and is down; once back, it answers and is up', async () => {
    await s.version();
    expect(s.up).toBe(true);
    await h.goAway();
    const failure = await s.version().then(
      () => null,
      (error: unknown) => error,
    );
    expect(isServerAway(failure), String(failure)).toBe(true);
    expect(s.up).toBe(false);
    await h.comeBack();
    expect(await s.add(key('after'), 'v', TTL)).toBe('STORED');
    expect(s.up).toBe(true);
  });

  it('after close, every command fails as closed and the server is down', async () => {
    await s.version();
    s.close();
    await expect(s.version()).rejects.toBeInstanceOf(CacheConnectionClosed);
    await expect(s.gets([key('a')])).rejects.toBeInstanceOf(CacheConnectionClosed);
    expect(s.up).toBe(false);
  });

  it('a watch reports what is stored and removed under its prefixes, and nothing else', async () => {
    const seen: string[] = [];
    const ended = Promise.withResolvers<Error>();
    const watch = await s.watch([key('w/')], {
      stored: (k, ttl) => seen.push(`stored ${k.slice(prefix.length)} ${ttl}`),
      removed: (k) => seen.push(`removed ${k.slice(prefix.length)}`),
      skipped: (n) => seen.push(`skipped ${n}`),
      ended: (error) => ended.resolve(error),
    });
    await s.add(key('w/a'), '1', TTL);
    await s.add(key('w/a'), '2', TTL); // not stored: not reported
    await s.add(key('other'), '1', TTL);
    const unique = (await s.gets([key('w/a')])).get(key('w/a'))?.cas as string;
    await s.cas(key('w/a'), '3', 0, unique);
    await s.delete(key('w/a'));
    const expected = ['stored w/a 60', 'stored w/a 0', ...(watch.seesDeletions ? ['removed w/a'] : [])];
    await waitFor(
      'the watch lines',
      async () => (seen.length >= expected.length ? true : undefined),
      5_000,
    ).catch((e) => {
      throw new Error(`${e.message}: ${JSON.stringify(seen)}`);
    });
    expect(seen).toEqual(expected);
    watch.close();
    expect(await ended.promise).toBeInstanceOf(CacheConnectionClosed);
  });

  it('a watch ends when the server goes away', async () => {
    const ended = Promise.withResolvers<Error>();
    await s.watch([key('w/')], { stored() {}, removed() {}, skipped() {}, ended: (e) => ended.resolve(e) });
    await h.goAway();
    expect(isServerAway(await ended.promise)).toBe(true);
  });
});
