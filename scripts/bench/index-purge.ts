import { randomBytes } from 'node:crypto';
import { MemcachedConnection } from '../../src/adapters/memcached/connection.ts';
import { parseMemcachedServer } from '../../src/config/memcached-servers.ts';
import { setMany } from '../../test/support/memcached-probe.ts';
import { cachedValue, tokenFor } from '../../test/support/middleware-entries.ts';
import { startMemcached } from '../../test/support/tls.ts';
import type { DaemonProcess } from './daemon-process.ts';
import type { Publisher } from './publisher.ts';
import { type Percentiles, percentiles, round } from './stats.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const hex = () => randomBytes(16).toString('hex');
/** Users invalidated one after the other, each holding this many of the cached entries. */
const TARGETS = 5;
const ENTRIES_PER_TARGET = 5;
/** A MAC entry of real keystonemiddleware is about 1.9 KB; memcached's item overhead on top. */
const ITEM_BYTES = 2_300;

export interface IndexPurgeFigures {
  readonly entriesPerServer: number;
  readonly servers: number;
  /** Both servers' indexes built (listing and reading every entry), from the daemon's start. */
  readonly buildSeconds: number;
  /** The idle daemon with both indexes, and what each indexed entry costs over an empty one. */
  readonly rssMb: number;
  readonly rssBytesPerEntry: number;
  /** V8's heap in use (nodejs_heap_size_used_bytes), the same way: steadier than the RSS. */
  readonly heapBytesPerEntry: number;
  /** Publish of identity.user.updated → the user's entries gone from both servers (first pass). */
  readonly purge: Percentiles;
}

export interface IndexPurgeOptions {
  readonly publisher: Publisher;
  readonly pool: string;
  readonly startDaemon: (extraYaml: string, servers: readonly string[]) => Promise<DaemonProcess>;
  readonly endDaemon: (daemon: DaemonProcess) => Promise<void>;
}

/**
 * middlewarePurge with the index: two memcached servers of the phase's own (sized for the entries),
 * `entries` cached validations on each, a daemon that builds its indexes, then users invalidated one at
 * a time, each timed from the publish to its entries gone from both servers. The daemon's RSS with the
 * indexes, against the same daemon on empty servers, gives the bytes per indexed entry.
 */
export async function indexPurge(entries: number, o: IndexPurgeOptions): Promise<IndexPurgeFigures> {
  const megabytes = Math.max(64, Math.ceil((entries * ITEM_BYTES) / 2 ** 20) + 64);
  const servers = [
    await startMemcached(['-m', String(megabytes)]),
    await startMemcached(['-m', String(megabytes)]),
  ];
  const addresses = servers.map((s) => s.address);
  const extra = `middlewarePurge: { enabled: true, index: { maxEntries: ${entries * 2 + 1_000} } }\n`;
  try {
    const baseline = await idleMemory(o, extra, addresses);
    const users = Array.from({ length: TARGETS }, hex);
    await seed(addresses, entries, users);
    // The pool queue exists: a daemon that had to create it would start with a global purge (a gap).
    await o.publisher.freshQueue(o.pool);
    const started = performance.now();
    const daemon = await o.startDaemon(extra, addresses);
    try {
      while ((await daemon.metric('kci_purge_index_trusted')) < servers.length) await sleep(50);
      const buildSeconds = round((performance.now() - started) / 1000);
      await sleep(2_000); // settle: garbage from the build collected
      const rss = daemon.rssBytes();
      const heap = await daemon.metric('nodejs_heap_size_used_bytes');
      const readers = addresses.map(
        (a) =>
          new MemcachedConnection(parseMemcachedServer(a), {
            connectTimeoutMs: 2_000,
            requestTimeoutMs: 5_000,
            tls: null,
          }),
      );
      const latencies: number[] = [];
      for (const [i, user] of users.entries()) {
        const keys = targetKeys(i);
        const published = performance.now();
        o.publisher.publish(user);
        while ((await Promise.all(readers.map((r) => r.gets(keys)))).some((found) => found.size > 0))
          await sleep(1);
        latencies.push(performance.now() - published);
        await sleep(2_500); // the repeat pass of this purge done before the next event
      }
      for (const r of readers) r.close();
      return {
        entriesPerServer: entries,
        servers: servers.length,
        buildSeconds,
        rssMb: Math.round(rss / 2 ** 20),
        rssBytesPerEntry: Math.round((rss - baseline.rss) / (entries * servers.length)),
        heapBytesPerEntry: Math.round((heap - baseline.heap) / (entries * servers.length)),
        purge: percentiles(latencies),
      };
    } finally {
      await o.endDaemon(daemon);
    }
  } finally {
    for (const s of servers) s.stop();
  }
}

/** The target users' keys are named so that they can be asked for. */
function targetKeys(user: number): string[] {
  return Array.from({ length: ENTRIES_PER_TARGET }, (_, n) => `tokens/kci-bench-target-${user}-${n}`);
}

async function seed(addresses: readonly string[], entries: number, users: readonly string[]): Promise<void> {
  const other = cachedValue('MAC', tokenFor(hex(), hex()));
  for (const address of addresses) {
    for (let done = 0; done < entries; done += 2_000) {
      const n = Math.min(2_000, entries - done);
      await setMany(
        address,
        Array.from({ length: n }, () => [`tokens/${hex()}${hex()}`, other] as const),
        3_600,
      );
    }
    for (const [i, user] of users.entries()) {
      const value = cachedValue('MAC', tokenFor(user, hex()));
      await setMany(
        address,
        targetKeys(i).map((k) => [k, value] as const),
        3_600,
      );
    }
  }
}

/** The daemon's RSS and heap on empty servers, with the same settings. */
async function idleMemory(o: IndexPurgeOptions, extra: string, addresses: readonly string[]) {
  const daemon = await o.startDaemon(extra, addresses);
  try {
    while ((await daemon.metric('kci_purge_index_trusted')) < addresses.length) await sleep(50);
    await sleep(2_000);
    return { rss: daemon.rssBytes(), heap: await daemon.metric('nodejs_heap_size_used_bytes') };
  } finally {
    await o.endDaemon(daemon);
  }
}
