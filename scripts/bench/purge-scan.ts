import { randomBytes } from 'node:crypto';
import { MiddlewarePurgeAction } from '../../src/actions/middleware-purge.ts';
import { MemcachedConnection } from '../../src/adapters/memcached/connection.ts';
import { parseMemcachedServer } from '../../src/config/memcached-servers.ts';
import { target } from '../../src/core/targets.ts';
import { flushAll, SERVERS, setMany, stats } from '../../test/support/memcached-probe.ts';
import { cachedValue, tokenFor } from '../../test/support/middleware-entries.ts';

export interface PurgeFigures {
  readonly tokensPerServer: number;
  readonly servers: number;
  readonly keysListed: number;
  readonly listingMs: number;
  readonly purgeMs: number;
  readonly entriesDeleted: number;
  readonly entriesPerSecond: number;
  readonly rssMiB: number;
}

const hex = () => randomBytes(16).toString('hex');
const socket = { connectTimeoutMs: 2_000, tls: null };

/** Seeds `tokens` keystonemiddleware entries (MAC, 1 % the invalidated user's) on each server. */
async function seed(tokens: number, user: string): Promise<void> {
  await flushAll();
  const other = hex();
  const items: Array<[string, string]> = [];
  for (let i = 0; i < tokens; i++) {
    const owner = i % 100 === 0 ? user : other;
    items.push([`tokens/${hex()}${hex()}`, cachedValue('MAC', tokenFor(owner, hex()))]);
  }
  for (let i = 0; i < items.length; i += 2_000) {
    for (const server of SERVERS) await setMany(server, items.slice(i, i + 2_000), 3_600);
  }
  for (const server of SERVERS) {
    const held = (await stats(server)).curr_items ?? 0;
    if (held < tokens)
      throw new Error(`${server} holds only ${held} of ${tokens} entries: give it more memory (-m)`);
  }
}

/**
 * How long a middlewarePurge for one user takes with `tokens` cached validations on each local server:
 * the key listing alone, then the whole purge (listing, fetching every entry, reading, deleting the
 * user's), both servers at once, with the default settings. Flushes both servers before and after.
 */
export async function measurePurge(tokens: number): Promise<PurgeFigures> {
  const servers = SERVERS.map(
    (s) =>
      new MemcachedConnection(parseMemcachedServer(s), {
        ...socket,
        requestTimeoutMs: 30_000,
        metadump: 'hash',
      }),
  );
  const user = hex();
  await seed(tokens, user);
  let started = performance.now();
  // The bench lists whole servers, whatever their size: no cap.
  const limits = { timeoutMs: 120_000, idleMs: 2_000, maxKeys: Number.POSITIVE_INFINITY };
  const listed = await Promise.all(servers.map((s) => s.listKeys('tokens/', limits)));
  const listingMs = performance.now() - started;
  let deleted = 0;
  const purge = new MiddlewarePurgeAction(
    servers,
    {
      keyPrefix: 'tokens/',
      batchSize: 100,
      deleteAllOnGlobal: true,
      deleteUnreadable: true,
      repeatAfterMs: 0,
      scanTimeoutMs: 120_000,
      scanIdleMs: 2_000,
      scanMaxKeys: Number.POSITIVE_INFINITY,
    },
    { looked: () => {}, scanned: () => {}, deleted: (_s, _r, n) => (deleted += n), failed: () => {} },
  );
  started = performance.now();
  await purge.apply([target('user', user)], new AbortController().signal);
  const purgeMs = performance.now() - started;
  for (const s of servers) s.close();
  await flushAll();
  return {
    tokensPerServer: tokens,
    servers: SERVERS.length,
    keysListed: listed.reduce((n, l) => n + l.keys.length, 0),
    listingMs: Math.round(listingMs),
    purgeMs: Math.round(purgeMs),
    entriesDeleted: deleted,
    entriesPerSecond: Math.round((tokens * SERVERS.length) / (purgeMs / 1000)),
    rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20),
  };
}
