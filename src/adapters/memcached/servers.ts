import type { Config } from '../../config/load.ts';
import { tlsFileReader } from '../../config/tls-files.ts';
import type { CacheServer } from '../../ports/cache-server.ts';
import { type ConnectionOptions, MemcachedConnection } from './connection.ts';
import type { MetadumpMode } from './metadump.ts';

/** Told which key listing `metadump: auto` chose for a server (old servers only walk the LRU). */
export type ListingModeObserver = (server: string, mode: MetadumpMode, version: string) => void;

/** Connections to every configured server, each call a new set of its own. */
export type MemcachedConnector = (listingModeChosen?: ListingModeObserver) => CacheServer[];

/**
 * The region's memcached servers from the configuration, one connection each: Python clients place
 * keys differently (crc32 buckets, rendezvous hashing, replicate-all), so every server must hold every
 * invalidation. TLS files are read here, once for every set of connections the connector makes (the
 * markers' and the purge index's), and again by every new connection (rotation).
 */
export function memcachedConnector(config: Config): MemcachedConnector {
  const { memcached } = config;
  const tls = memcached.tls.enabled ? tlsFileReader(memcached.tls, 'memcached.tls') : null;
  return (listingModeChosen) => {
    const options: ConnectionOptions = {
      connectTimeoutMs: memcached.connectTimeoutMs,
      requestTimeoutMs: memcached.requestTimeoutMs,
      tls,
      metadump: config.middlewarePurge.metadump,
      ...(listingModeChosen === undefined ? {} : { listingModeChosen }),
    };
    return memcached.servers.map((server) => new MemcachedConnection(server, options));
  };
}

/** One set of connections to the configured servers (see memcachedConnector). */
export function memcachedServers(config: Config, listingModeChosen?: ListingModeObserver): CacheServer[] {
  return memcachedConnector(config)(listingModeChosen);
}
