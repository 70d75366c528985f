import { afterEach, describe, expect, it } from 'vitest';
import {
  type DistrustReason,
  type PurgeIndexSettings,
  ServerPurgeIndex,
} from '../../src/actions/purge-index.ts';
import { CacheProtocolError } from '../../src/ports/cache-errors.ts';
import type { CacheWatch } from '../../src/ports/cache-server.ts';
import { MemoryCacheServer } from '../support/memory-cache-server.ts';
import { cachedValue, tokenFor } from '../support/middleware-entries.ts';
import { waitFor } from '../support/wait.ts';

const SETTINGS: PurgeIndexSettings = {
  keyPrefix: 'tokens/',
  fencePrefix: 'kci:fence:unit:',
  maxEntries: 1_000,
  reconcileEveryMs: 60_000,
  heartbeatMs: 1_000,
  fenceTimeoutMs: 200,
  readBatchSize: 16,
  listing: { timeoutMs: 1_000, idleMs: 100, maxKeys: 10_000 },
  retry: { initialDelayMs: 5, maxDelayMs: 10 },
};

const stops: Array<() => void> = [];
afterEach(() => {
  for (const stop of stops.splice(0)) stop();
});

function started(server = new MemoryCacheServer(), settings: Partial<PurgeIndexSettings> = {}) {
  const events: string[] = [];
  const index = new ServerPurgeIndex(
    server,
    { ...SETTINGS, ...settings },
    {
      trusted: (_s, entries) => events.push(`trusted ${entries}`),
      distrusted: (_s, reason: DistrustReason) => events.push(`distrusted ${reason}`),
      skipped: (_s, lines) => events.push(`skipped ${lines}`),
      failed: (_s, _e, unsupported) => events.push(`failed${unsupported ? ' (unsupported)' : ''}`),
    },
  );
  const stop = new AbortController();
  const running = index.run(stop.signal);
  stops.push(() => {
    stop.abort();
    void running.then(() => index.close());
  });
  const trusted = () => waitFor('a trusted index', async () => (index.trusted ? true : undefined), 2_000);
  return { server, index, events, trusted };
}

const cache = (server: MemoryCacheServer, key: string, user: string) =>
  server.add(`tokens/${key}`, cachedValue('MAC', tokenFor(user, 'p1')), 300);
const lookup = async (index: ServerPurgeIndex, target: string) => {
  const found = await index.lookup(new Set([target]));
  return found === null ? null : found.matched.sort();
};

describe('the purge index of one server, on the in-memory server', () => {
  it('is built from a listing, then follows the watch: a lookup names every entry of the subject, stored up to now', async () => {
    const server = new MemoryCacheServer();
    await cache(server, 'listed', 'u1');
    await cache(server, 'other', 'u2');
    const { index, trusted, events } = started(server);
    await trusted();
    expect(events).toEqual(['trusted 2']);
    // Stored just before the purge asks: the fences make it wait for the watch to say so.
    await cache(server, 'new', 'u1');
    expect(await lookup(index, 'user:u1')).toEqual(['tokens/listed', 'tokens/new']);
    expect(await lookup(index, 'user:u2')).toEqual(['tokens/other']);
  });

  it('an entry removed from the server (deleted, evicted) is no longer named', async () => {
    const { server, index, trusted } = started();
    await trusted();
    await cache(server, 'a', 'u1');
    await cache(server, 'b', 'u1');
    await server.delete('tokens/a');
    server.evict('tokens/b');
    expect(await lookup(index, 'user:u1')).toEqual([]);
    expect(index.entries).toBe(0);
  });

  it('skipped watch lines: untrusted (the purge scans), then a listing makes it whole again', async () => {
    const { server, index, trusted, events } = started();
    await trusted();
    server.skipWatchLines(1);
    await cache(server, 'lost', 'u1'); // its line is skipped
    await cache(server, 'next', 'u1'); // memcached says skipped=1 before this one
    await waitFor('the skip', async () => (events.includes('distrusted skipped') ? true : undefined));
    await trusted();
    expect(await lookup(index, 'user:u1')).toEqual(['tokens/lost', 'tokens/next']);
    expect(events.slice(0, 3)).toEqual(['trusted 0', 'skipped 1', 'distrusted skipped']);
    expect(events.at(-1)).toBe('trusted 2');
  });

  it('lines memcached dropped without a word (a full worker log buffer) are found in its counters', async () => {
    const { server, index, trusted, events } = started();
    await trusted();
    server.dropWatchLines(1);
    await cache(server, 'dropped', 'u1');
    // An index that trusted the stream would answer [] here.
    expect(await index.lookup(new Set(['user:u1']))).toBeNull();
    await trusted();
    expect(await lookup(index, 'user:u1')).toEqual(['tokens/dropped']);
    expect(events).toContain('distrusted dropped');
  });

  it('a restarted server ends the watch: rebuilt from scratch', async () => {
    const { server, index, trusted, events } = started();
    await trusted();
    await cache(server, 'before', 'u1');
    server.restart();
    await waitFor('untrusted', async () => (index.trusted ? undefined : true));
    await cache(server, 'after', 'u1');
    await trusted();
    expect(await lookup(index, 'user:u1')).toEqual(['tokens/after']);
    expect(events).toContain('distrusted watch-ended');
  });

  it('a wiped server (the recovery says so) is rebuilt', async () => {
    const { server, index, trusted, events } = started();
    await trusted();
    await cache(server, 'a', 'u1');
    server.wipe();
    index.distrust('wiped');
    await trusted();
    expect(await lookup(index, 'user:u1')).toEqual([]);
    expect(events).toContain('distrusted wiped');
  });

  it('past maxEntries the index is dropped and purges scan', async () => {
    const server = new MemoryCacheServer();
    for (let i = 0; i < 5; i++) await cache(server, `k${i}`, 'u1');
    const { index, events } = started(server, { maxEntries: 3 });
    await waitFor('the ceiling', async () => (events.includes('distrusted ceiling') ? true : undefined));
    expect(index.trusted).toBe(false);
    expect(await index.lookup(new Set(['user:u1']))).toBeNull();
  });

  it('a server without watchers is reported as unsupported; purges on it scan', async () => {
    class NoWatchers extends MemoryCacheServer {
      override watch(): Promise<CacheWatch> {
        return Promise.reject(new CacheProtocolError(this.name, 'watch refused: ERROR'));
      }
    }
    const { index, events } = started(new NoWatchers());
    await waitFor('the failure', async () => (events.length > 0 ? true : undefined));
    expect(events).toEqual(['failed (unsupported)']);
    expect(await index.lookup(new Set(['user:u1']))).toBeNull();
  });

  it('unreadable entries (ENCRYPT) are handed out for every purge', async () => {
    const { server, index, trusted } = started();
    await trusted();
    await server.add('tokens/enc', cachedValue('ENCRYPT', tokenFor('u1', 'p1')), 300);
    expect((await index.lookup(new Set(['user:anyone'])))?.unreadable).toEqual(['tokens/enc']);
  });
});
