import net from 'node:net';

export const SERVERS = ['127.0.0.1:11211', '127.0.0.1:11212'] as const;

/**
 * Reads memcached with raw text-protocol commands, independently of the daemon's own client, so a bug
 * in that client cannot hide itself from the tests.
 */
export async function command(server: string, line: string, until: RegExp): Promise<string> {
  const [host, port] = server.split(':') as [string, string];
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port: Number(port) });
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`memcached ${server}: no complete reply to ${line.split(' ')[0]}`));
    }, 5_000);
    socket.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    socket.on('data', (chunk) => {
      text += chunk.toString('latin1');
      if (until.test(text)) {
        clearTimeout(timer);
        socket.end();
        resolve(text);
      }
    });
    socket.write(`${line}\r\n`);
  });
}

export async function get(server: string, key: string): Promise<string | null> {
  const reply = await command(server, `get ${key}`, /END\r\n$/);
  const m = /^VALUE \S+ \d+ \d+\r\n([\s\S]*?)\r\nEND\r\n$/.exec(reply);
  return m ? (m[1] as string) : null;
}

export async function flushAll(): Promise<void> {
  await Promise.all(SERVERS.map((s) => command(s, 'flush_all', /OK\r\n$/)));
}

/**
 * Every key a server holds (test servers only) but the daemons' sentinels (`kci:alive:…`, bookkeeping
 * of server-recovery). `hash`, not `all`: `all` can skip items the LRU moves during the walk.
 */
export async function keys(server: string): Promise<string[]> {
  // memcached has one crawler: while it runs (its own background crawl reclaiming expired items, or a
  // daemon's listing) a metadump is answered BUSY. Ask again, as the daemon's listing does.
  let reply = '';
  for (let attempt = 0; ; attempt++) {
    reply = await command(server, 'lru_crawler metadump hash', /(END|BUSY[^\r\n]*)\r\n$/);
    if (!reply.startsWith('BUSY')) break;
    if (attempt >= 50) throw new Error(`memcached ${server}: the crawler stayed busy`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return [...reply.matchAll(/^key=(\S+)/gm)]
    .map((m) => decodeKey(m[1] as string))
    .filter((k) => !k.startsWith('kci:alive:'))
    .sort();
}

/**
 * Config lines for a daemon whose tests flush the servers and then expect exact key sets: no probe
 * after the first, so a flush is not seen as a wipe that re-asserts earlier tests' markers.
 */
export const NO_REASSERTION = {
  memcached: ['probeIntervalMs: 600000'],
  extra: 'markers: { reassertIntervalSeconds: 0 }\n',
} as const;

/** A metadump key decoded; one that is not UTF-8 stays in its encoded form. */
function decodeKey(encoded: string): string {
  try {
    return decodeURIComponent(encoded);
  } catch {
    return encoded;
  }
}

/** Stores `value`; it expires after `ttlSeconds` (10 minutes by default), so no test key stays for good. */
export async function set(server: string, key: string, value: string, ttlSeconds = 600): Promise<void> {
  await command(server, `set ${key} 0 ${ttlSeconds} ${Buffer.byteLength(value)}\r\n${value}`, /STORED\r\n$/);
}

/** The server's `stats` counters. */
export async function stats(server: string): Promise<Record<string, number>> {
  const reply = await command(server, 'stats', /END\r\n$/);
  return Object.fromEntries([...reply.matchAll(/^STAT (\S+) (\d+)\r$/gm)].map((m) => [m[1], Number(m[2])]));
}

/** Stores many items in one pipelined write (`noreply`), then waits for the server to catch up. */
export async function setMany(
  server: string,
  items: ReadonlyArray<readonly [string, string]>,
  ttl = 300,
): Promise<void> {
  const body = items
    .map(([k, v]) => `set ${k} 0 ${ttl} ${Buffer.byteLength(v)} noreply\r\n${v}\r\n`)
    .join('');
  await command(server, `${body}version`, /VERSION [^\r]*\r\n$/);
}

/** Sends raw bytes (a storage command with arbitrary key bytes) and waits for STORED. */
export async function rawSet(server: string, bytes: Buffer): Promise<void> {
  const [host, port] = server.split(':') as [string, string];
  await new Promise<void>((resolve, reject) => {
    const socket = net.connect({ host, port: Number(port) }, () => socket.write(bytes));
    socket.on('data', (c) => {
      socket.end();
      if (c.toString().startsWith('STORED')) resolve();
      else reject(new Error(`memcached ${server}: ${c.toString().trim()}`));
    });
    socket.on('error', reject);
  });
}
