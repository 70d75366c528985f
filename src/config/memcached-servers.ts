import type { ServerAddress } from '../ports/cache-server.ts';

/**
 * One entry of `memcache_servers` as operators write it in nova.conf / keystone.conf:
 * `host:port`, `inet:host:port`, `inet6:[::1]:11211`, `[::1]:11211` (port defaults to 11211).
 */
export type MemcachedServer = ServerAddress;

export function parseMemcachedServer(entry: string): MemcachedServer {
  const text = entry.trim().replace(/^inet6?:/, '');
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  const plain = /^([^:[\]\s]+)(?::(\d+))?$/.exec(text);
  const m = bracketed ?? plain;
  if (!m?.[1]) throw new Error('expected host:port, inet:host:port or inet6:[addr]:port');
  const port = m[2] === undefined ? 11211 : Number(m[2]);
  if (port < 1 || port > 65535) throw new Error('port must be a number from 1 to 65535');
  return { host: m[1], port };
}

/** The label a server goes by in logs and metrics. */
export function serverName(s: MemcachedServer): string {
  return s.host.includes(':') ? `[${s.host}]:${s.port}` : `${s.host}:${s.port}`;
}
