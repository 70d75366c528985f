/**
 * keystone-cache-invalidator/reader: what a validating service needs to honour invalidation markers
 * (docs/protocol.md). The daemon writes the markers; this side reads them. This file is the library's
 * entry and its only wiring: it connects the reader to memcached.
 */
import type tls from 'node:tls';
import { MemcachedConnection } from './adapters/memcached/connection.ts';
import { parseMemcachedServer } from './config/memcached-servers.ts';
import { CacheMarkerReader } from './reader/cache-marker-reader.ts';

export {
  decodeMarkerValue,
  encodeId,
  isStale,
  markerKey,
  PROTOCOL_VERSION,
  readMarkerValue,
} from './core/marker.ts';
export { GLOBAL, TARGET_KINDS, type Target, type TargetKind, target } from './core/targets.ts';
export { tokenSubjects } from './core/token-subjects.ts';
export type { CacheServer } from './ports/cache-server.ts';
export { CacheMarkerReader } from './reader/cache-marker-reader.ts';
export { markerKeysForToken } from './reader/marker-keys.ts';
export { type TokenBody, ValidationCache, type ValidationCacheOptions } from './reader/validation-cache.ts';

export interface MarkerReaderOptions {
  /** The region's memcached servers, memcache_servers syntax; every one holds every marker. */
  readonly servers: readonly string[];
  /** markers.prefix of the daemon. */
  readonly prefix?: string;
  readonly connectTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
  readonly tls?: tls.ConnectionOptions | null;
}

/** The marker reader on the region's memcached servers (one connection each, opened on first use). */
export class MarkerReader extends CacheMarkerReader {
  constructor(options: MarkerReaderOptions) {
    const tls = options.tls ?? null;
    const connection = {
      connectTimeoutMs: options.connectTimeoutMs ?? 500,
      requestTimeoutMs: options.requestTimeoutMs ?? 500,
      tls: tls === null ? null : () => tls,
    };
    super(
      options.servers.map((s) => new MemcachedConnection(parseMemcachedServer(s), connection)),
      options.prefix,
    );
  }
}
