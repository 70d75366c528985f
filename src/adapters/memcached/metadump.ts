import type { MemcachedServer } from '../../config/memcached-servers.ts';
import { connectSocket, type SocketOptions } from './socket.ts';

export type MetadumpMode = 'hash' | 'all';

export interface MetadumpLimits {
  /** The whole listing must arrive within this. */
  readonly timeoutMs: number;
  /** memcached sometimes never sends END (memcached#667): silence this long after data ends the listing. */
  readonly idleMs: number;
}

export interface KeyListing {
  /** Keys as stored (URL-decoded). */
  readonly keys: string[];
  /** False when the listing ended by silence instead of END. */
  readonly complete: boolean;
}

/**
 * Every key a server holds, from `lru_crawler metadump hash` (or `all` before memcached 1.6.9). It runs
 * on a socket of its own: memcached refuses other commands pipelined around a metadump, and the reply is
 * a stream of `key=… exp=… …\n` lines (a bare \n) closed by `END\r\n`.
 */
export async function listKeys(
  server: MemcachedServer,
  options: SocketOptions,
  mode: MetadumpMode,
  limits: MetadumpLimits,
): Promise<KeyListing> {
  const socket = await connectSocket(server, options);
  return new Promise<KeyListing>((resolve, reject) => {
    const keys: string[] = [];
    let rest = '';
    let idle: NodeJS.Timeout | undefined;
    const finish = (error: Error | null, complete = true) => {
      clearTimeout(overall);
      clearTimeout(idle);
      socket.removeAllListeners();
      socket.on('error', () => {});
      socket.destroy();
      if (error) reject(error);
      else resolve({ keys, complete });
    };
    const overall = setTimeout(
      () => finish(new Error(`metadump not finished within ${limits.timeoutMs} ms`)),
      limits.timeoutMs,
    );
    socket.on('error', (error) => finish(error));
    socket.on('close', () => finish(new Error('connection closed during metadump')));
    socket.on('data', (chunk: Buffer) => {
      clearTimeout(idle);
      const lines = (rest + chunk.toString('latin1')).split('\n');
      rest = lines.pop() ?? '';
      for (const raw of lines) {
        const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
        if (line === 'END') return finish(null);
        if (line.startsWith('key=')) {
          // A key that is not UTF-8 (memcached keys are bytes) is no auth_token entry: skip it.
          const key = metadumpKey(line);
          if (key !== null) keys.push(key);
        } else if (line !== '') {
          return finish(new Error(`metadump refused: ${line.slice(0, 120)}`));
        }
      }
      idle = setTimeout(() => finish(null, false), limits.idleMs);
    });
    socket.write(`lru_crawler metadump ${mode}\r\n`);
  });
}

/** The decoded key of one metadump line (`key=tokens%2Fabc exp=… la=…`), or null for any other line. */
export function metadumpKey(line: string): string | null {
  const m = /^key=(\S+)(?: |$)/.exec(line);
  if (!m) return null;
  try {
    return decodeURIComponent(m[1] as string);
  } catch {
    return null;
  }
}

/** `lru_crawler metadump hash` exists from memcached 1.6.9; older servers only walk the LRU (`all`). */
export function metadumpModeFor(version: string): MetadumpMode {
  const [major = 0, minor = 0, patch = 0] = version.split('.').map((n) => Number.parseInt(n, 10) || 0);
  return major > 1 || (major === 1 && (minor > 6 || (minor === 6 && patch >= 9))) ? 'hash' : 'all';
}
