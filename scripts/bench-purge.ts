/**
 * `npm run bench:purge -- [--tokens N] [--json]`: how long a middlewarePurge scan takes on the local
 * memcached servers (scripts/local-services.sh). Seeds N keystonemiddleware entries (strategy MAC, the
 * fixture's format; 1 % belong to the invalidated user) on each server, then measures the key listing
 * alone and a whole purge for that user. Flushes both servers first: run it on test servers only.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { MiddlewarePurgeAction } from '../src/actions/middleware-purge.ts';
import { MemcachedConnection } from '../src/adapters/memcached/connection.ts';
import { listKeys } from '../src/adapters/memcached/metadump.ts';
import { parseMemcachedServer } from '../src/config/memcached-servers.ts';
import { target } from '../src/core/targets.ts';
import { flushAll, SERVERS, setMany, stats } from '../test/support/memcached-probe.ts';
import { cachedValue, tokenFor } from '../test/support/middleware-entries.ts';

const { values } = parseArgs({
  options: { tokens: { type: 'string', default: '10000' }, json: { type: 'boolean' } },
});
const tokens = Number(values.tokens);
const hex = () => randomBytes(16).toString('hex');
const socket = { connectTimeoutMs: 2_000, tls: null };
const servers = SERVERS.map(
  (s) => new MemcachedConnection(parseMemcachedServer(s), { ...socket, requestTimeoutMs: 30_000 }),
);

async function seed(user: string): Promise<void> {
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

async function main(): Promise<void> {
  const user = hex();
  await seed(user);
  let started = performance.now();
  const listed = await Promise.all(
    servers.map((s) => listKeys(s.server, socket, 'hash', 'tokens/', { timeoutMs: 120_000, idleMs: 2_000 })),
  );
  const listingMs = performance.now() - started;
  let deleted = 0;
  const purge = new MiddlewarePurgeAction(
    servers,
    socket,
    {
      keyPrefix: 'tokens/',
      metadump: 'hash',
      batchSize: 100,
      deleteAllOnGlobal: true,
      deleteUnreadable: true,
      repeatAfterMs: 0,
      scanTimeoutMs: 120_000,
      scanIdleMs: 2_000,
    },
    { scanned: () => {}, deleted: (_s, _r, n) => (deleted += n), modeChosen: () => {}, failed: () => {} },
  );
  started = performance.now();
  await purge.apply([target('user', user)], new AbortController().signal);
  const purgeMs = performance.now() - started;
  const result = {
    tokensPerServer: tokens,
    servers: SERVERS.length,
    keysListed: listed.reduce((n, l) => n + l.keys.length, 0),
    listingMs: Math.round(listingMs),
    purgeMs: Math.round(purgeMs),
    entriesDeleted: deleted,
    entriesPerSecond: Math.round((tokens * SERVERS.length) / (purgeMs / 1000)),
    rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20),
  };
  for (const s of servers) s.close();
  await flushAll();
  if (values.json) console.log(JSON.stringify(result));
  else for (const [k, v] of Object.entries(result)) console.log(`${k.padEnd(18)} ${v}`);
}

main().catch((error: unknown) => {
  console.error((error as Error).message);
  process.exitCode = 1;
});
