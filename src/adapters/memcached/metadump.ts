import {
  CacheBusy,
  CacheConnectionClosed,
  CacheProtocolError,
  CacheTimeout,
  CacheUnreachable,
} from '../../ports/cache-errors.ts';
import type { KeyListing, ListedKey, ListingLimits, ServerAddress } from '../../ports/cache-server.ts';
import { sleep } from '../../util/backoff.ts';
import { errorMessage } from '../../util/errors.ts';
import { connectSocket, type SocketOptions } from './socket.ts';

export type MetadumpMode = 'hash' | 'all';

/** Another crawl (another replica's purge, say) holds memcached's single crawler: wait and ask again. */
const BUSY_RETRY_MS = 200;

/**
 * The keys under `prefix` that a server holds, from `lru_crawler metadump hash` (or `all` before
 * memcached 1.6.9). It runs on a socket of its own: memcached refuses commands pipelined around a
 * metadump, and the reply is a stream of `key=… exp=… …\n` lines (a bare \n) closed by `END\r\n`.
 * A `hash` listing counts only when END arrives: silence is a failure to retry, never a partial success.
 */
export async function listKeys(
  server: Listed,
  mode: MetadumpMode,
  prefix: string,
  limits: ListingLimits,
  signal?: AbortSignal,
): Promise<KeyListing> {
  const deadline = Date.now() + limits.timeoutMs;
  for (;;) {
    signal?.throwIfAborted();
    const listing = await listOnce(
      server,
      mode,
      prefix,
      { ...limits, timeoutMs: deadline - Date.now() },
      signal,
    );
    if (listing !== 'busy') return listing;
    if (Date.now() + BUSY_RETRY_MS > deadline)
      throw new CacheBusy(server.name, 'metadump: the crawler stayed busy until the scan timeout');
    await sleep(BUSY_RETRY_MS, signal);
  }
}

/** The server to list: where it is, how to open a socket to it, and its name for errors. */
export interface Listed {
  readonly name: string;
  readonly address: ServerAddress;
  readonly socket: SocketOptions;
}

async function listOnce(
  server: Listed,
  mode: MetadumpMode,
  prefix: string,
  { timeoutMs, idleMs, maxKeys }: ListingLimits,
  signal: AbortSignal | undefined,
): Promise<KeyListing | 'busy'> {
  let socket: Awaited<ReturnType<typeof connectSocket>>;
  try {
    socket = await connectSocket(server.address, server.socket);
  } catch (cause) {
    throw new CacheUnreachable(server.name, `cannot connect: ${errorMessage(cause)}`, { cause });
  }
  return new Promise<KeyListing | 'busy'>((resolve, reject) => {
    const keys: ListedKey[] = [];
    let rest = '';
    let idle: NodeJS.Timeout | undefined;
    const finish = (outcome: KeyListing | 'busy' | Error) => {
      clearTimeout(overall);
      clearTimeout(idle);
      signal?.removeEventListener('abort', onAbort);
      socket.removeAllListeners();
      socket.on('error', () => {});
      socket.destroy();
      if (outcome instanceof Error) reject(outcome);
      else resolve(outcome);
    };
    const onAbort = () => finish(signal?.reason ?? new Error('aborted'));
    const overall = setTimeout(
      () => finish(new CacheTimeout(server.name, `metadump not finished within ${timeoutMs} ms`)),
      timeoutMs,
    );
    signal?.addEventListener('abort', onAbort, { once: true });
    // Silence ends an `all` listing only if no byte came in meanwhile: a stalled event loop is not a
    // silent server (the data may be waiting, unread, on the socket).
    const endIfSilent = (bytesSeen: number) => {
      idle = setTimeout(() => {
        setImmediate(() => {
          if (socket.bytesRead === bytesSeen) finish({ keys, complete: false });
        });
      }, idleMs);
    };
    socket.on('error', (cause) =>
      finish(new CacheConnectionClosed(server.name, `metadump: ${cause.message}`, { cause })),
    );
    socket.on('close', () =>
      finish(new CacheConnectionClosed(server.name, 'connection closed during metadump')),
    );
    socket.on('data', (chunk: Buffer) => {
      clearTimeout(idle);
      const lines = (rest + chunk.toString('latin1')).split('\n');
      rest = lines.pop() ?? '';
      for (const raw of lines) {
        const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
        if (line === 'END') return finish({ keys, complete: true });
        if (line.startsWith('key=')) {
          const listed = metadumpEntry(line);
          // A key that is not UTF-8 (memcached keys are bytes) is no auth_token entry: skip it.
          if (listed?.key.startsWith(prefix)) keys.push(listed);
          // Closing the socket ends the dump: memcached stops the crawl for a client that left.
          if (keys.length >= maxKeys) return finish({ keys, complete: false, truncated: true });
        } else if (line.startsWith('BUSY')) {
          return finish('busy');
        } else if (line !== '' && line !== 'OK') {
          // Newer memcached may announce the dump with OK; anything else is a refusal.
          return finish(new CacheProtocolError(server.name, `metadump refused: ${line.slice(0, 120)}`));
        }
      }
      if (mode === 'all') endIfSilent(socket.bytesRead);
    });
    socket.write(`lru_crawler metadump ${mode}\r\n`);
  });
}

/** The decoded key, size and expiry of one metadump line (`key=tokens%2Fabc exp=… size=2029`), else null. */
export function metadumpEntry(line: string): ListedKey | null {
  const m = /^key=(\S+)(?: |$)/.exec(line);
  if (!m) return null;
  try {
    const exp = / exp=(-?\d+)/.exec(line)?.[1];
    return {
      key: decodeURIComponent(m[1] as string),
      size: Number(/ size=(\d+)/.exec(line)?.[1] ?? 0),
      exp: exp === undefined ? null : Number(exp),
    };
  } catch {
    return null;
  }
}

/** `lru_crawler metadump hash` exists from memcached 1.6.9; older servers only walk the LRU (`all`). */
export function metadumpModeFor(version: string): MetadumpMode {
  const [major = 0, minor = 0, patch = 0] = version.split('.').map((n) => Number.parseInt(n, 10) || 0);
  return major > 1 || (major === 1 && (minor > 6 || (minor === 6 && patch >= 9))) ? 'hash' : 'all';
}
