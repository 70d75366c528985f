import net from 'node:net';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { type Listed, listKeys } from '../../src/adapters/memcached/metadump.ts';
import { parseMemcachedServer } from '../../src/config/memcached-servers.ts';
import { CacheProtocolError, CacheTimeout } from '../../src/ports/cache-errors.ts';
import type { ServerAddress } from '../../src/ports/cache-server.ts';
import { command, SERVERS, setMany } from '../support/memcached-probe.ts';
import { runName } from '../support/run-name.ts';

const socket = { connectTimeoutMs: 1000, tls: null };
const listed = (address: ServerAddress): Listed => ({
  name: `${address.host}:${address.port}`,
  address,
  socket,
});
const limits = { timeoutMs: 1500, idleMs: 200, maxKeys: 10_000 };
const servers: net.Server[] = [];

/** A scripted "memcached": the nth connection gets replies[n] (then the socket stays open, silent). */
async function scripted(replies: string[]): Promise<Listed> {
  let n = 0;
  const server = net.createServer((s) => {
    s.on('error', () => {});
    const reply = replies[Math.min(n++, replies.length - 1)] ?? '';
    s.once('data', () => s.write(reply));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return listed({ host: '127.0.0.1', port: (server.address() as net.AddressInfo).port });
}

afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

const line = (key: string) => `key=${encodeURIComponent(key)} exp=-1 la=1 cas=1 fetch=no cls=1 size=70\n`;

describe('listing keys with lru_crawler metadump', () => {
  it('keeps only the prefix, with sizes, and ends at END', async () => {
    const server = await scripted([`${line('tokens/a')}${line('other')}${line('tokens/b')}END\r\n`]);
    const listing = await listKeys(server, 'hash', 'tokens/', limits);
    expect(listing).toEqual({
      keys: [
        { key: 'tokens/a', size: 70, exp: -1 },
        { key: 'tokens/b', size: 70, exp: -1 },
      ],
      complete: true,
    });
  });

  it('with hash, silence before END is a failure, never a partial listing', async () => {
    const server = await scripted([`${line('tokens/a')}`]);
    const listing = listKeys(server, 'hash', 'tokens/', limits);
    await expect(listing).rejects.toThrow(/not finished/);
    await expect(listing).rejects.toBeInstanceOf(CacheTimeout);
  });

  it('with all (servers before 1.6.9), silence ends the listing, marked incomplete', async () => {
    const server = await scripted([`${line('tokens/a')}`]);
    expect(await listKeys(server, 'all', 'tokens/', limits)).toEqual({
      keys: [{ key: 'tokens/a', size: 70, exp: -1 }],
      complete: false,
    });
  });

  it('waits and asks again while another crawl keeps the crawler BUSY', async () => {
    const server = await scripted([
      'BUSY currently processing crawler request\r\n',
      'BUSY currently processing crawler request\r\n',
      `${line('tokens/a')}END\r\n`,
    ]);
    expect((await listKeys(server, 'hash', 'tokens/', limits)).keys).toHaveLength(1);
  });

  it('accepts an OK line before the dump, and refuses anything else', async () => {
    const ok = await scripted([`OK\r\n${line('tokens/a')}END\r\n`]);
    expect((await listKeys(ok, 'hash', 'tokens/', limits)).keys).toHaveLength(1);
    const refused = await scripted(['CLIENT_ERROR lru crawler disabled\r\n']);
    const refusal = listKeys(refused, 'hash', 'tokens/', limits);
    await expect(refusal).rejects.toThrow(/metadump refused/);
    await expect(refusal).rejects.toBeInstanceOf(CacheProtocolError);
  });

  it('stops at once when aborted (the daemon is stopping)', async () => {
    const silent = await scripted(['']);
    const stop = new AbortController();
    const listing = listKeys(silent, 'hash', 'tokens/', { ...limits, timeoutMs: 60_000 }, stop.signal);
    setTimeout(() => stop.abort(), 50);
    await expect(listing).rejects.toThrow(/aborted/);
  });

  it('several listings at once on a real server all complete (memcached runs one crawl at a time)', async () => {
    await setMany(SERVERS[0], [['tokens/kci-concurrent', 'x']]);
    const server = listed(parseMemcachedServer(SERVERS[0]));
    const listings = await Promise.all(
      [1, 2, 3, 4].map(() =>
        listKeys(server, 'hash', 'tokens/kci-concurrent', { ...limits, timeoutMs: 10_000 }),
      ),
    );
    for (const l of listings) expect(l.keys.map((k) => k.key)).toEqual(['tokens/kci-concurrent']);
  });

  it('holds at most maxKeys keys of a server that has more, and says it stopped there', async () => {
    const prefix = `tokens/${runName('kci-cap')}-`;
    const keys = Array.from({ length: 50 }, (_, i) => `${prefix}${i}`);
    onTestFinished(async () => {
      const deletes = keys.map((k) => `delete ${k} noreply\r\n`).join('');
      await command(SERVERS[0], `${deletes}version`, /VERSION [^\r]*\r\n$/);
    });
    await setMany(
      SERVERS[0],
      keys.map((k) => [k, 'x'] as const),
    );
    const server = listed(parseMemcachedServer(SERVERS[0]));
    const listing = await listKeys(server, 'hash', prefix, { ...limits, timeoutMs: 10_000, maxKeys: 10 });
    expect(listing.keys).toHaveLength(10);
    expect(listing).toMatchObject({ complete: false, truncated: true });
  });
});
