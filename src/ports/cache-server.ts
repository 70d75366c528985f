/**
 * One server of the region's cache, as the actions, the recovery, the reader and the CLI use it: the
 * memcached commands they send, the key listing, and whether the server answered last time. Every
 * server holds every invalidation (Python clients place keys differently), so callers always talk to
 * each server on its own. `adapters/memcached` implements it over the text protocol; the tests also
 * run an in-memory one through the same conformance suite.
 *
 * A command rejects with a `CacheServerError` (cache-errors.ts) when the server failed it, and with a
 * `RangeError` for a key memcached would refuse (1–250 printable ASCII characters).
 */
/**
 * Whether memcached's text protocol can name `key` (1–250 printable ASCII characters). A listing may
 * hold other keys (stored over the binary or meta protocol by any client); asking for one is refused.
 */
export function isTextProtocolKey(key: string): boolean {
  return TEXT_PROTOCOL_KEY.test(key);
}

const TEXT_PROTOCOL_KEY = /^[\x21-\x7e]{1,250}$/;

export interface CacheServer {
  /** `host:port`, as in logs and metrics. */
  readonly name: string;
  /** The outcome of the last exchange: false after a failure until a request succeeds. */
  readonly up: boolean;
  /** Multi-get with CAS uniques; keys the server does not hold are absent from the map. */
  gets(keys: readonly string[]): Promise<Map<string, CachedItem>>;
  add(key: string, value: string, ttlSeconds: number): Promise<'STORED' | 'NOT_STORED'>;
  /**
   * `add` for each entry, pipelined as one request: the replies in entry order. One promise for the
   * lot, where a drain writes a marker per event. Rejects as a whole when the server failed any.
   * No entries: no request.
   */
  addAll(entries: readonly StoreEntry[]): Promise<('STORED' | 'NOT_STORED')[]>;
  cas(
    key: string,
    value: string,
    ttlSeconds: number,
    cas: string,
  ): Promise<'STORED' | 'EXISTS' | 'NOT_FOUND'>;
  delete(key: string): Promise<'DELETED' | 'NOT_FOUND'>;
  /** Reset an item's expiry without reading it; NOT_FOUND tells the server no longer holds it. */
  touch(key: string, ttlSeconds: number): Promise<'TOUCHED' | 'NOT_FOUND'>;
  version(): Promise<string>;
  /** The server's counters (`stats`), by name; only those with a numeric value. */
  stats(): Promise<Record<string, number>>;
  /**
   * Every key under `prefix` the server holds, with its size and expiry. The whole listing must arrive
   * within `limits.timeoutMs`; `signal` ends it early (the daemon stops). A listing may be incomplete
   * only on servers that cannot say where it ends (`complete: false`).
   */
  listKeys(prefix: string, limits: ListingLimits, signal?: AbortSignal): Promise<KeyListing>;
  /**
   * Follow what the server stores and removes under `prefixes` (memcached's `watch mutations evictions
   * deletions`), on a connection of its own, until the watch is closed or ends. Rejects with a
   * CacheProtocolError when the server has no watchers (older than 1.6, or a proxy in front).
   */
  watch(prefixes: readonly string[], listener: WatchListener): Promise<CacheWatch>;
  /** Fail whatever waits, and take no request after this. */
  close(): void;
}

/** One value to store: what `addAll` takes per key. */
export interface StoreEntry {
  readonly key: string;
  readonly value: string;
  readonly ttlSeconds: number;
}

export interface WatchListener {
  /** `key` was stored (by add, set, cas, …), to expire after `ttlSeconds` (0: never). */
  stored(key: string, ttlSeconds: number): void;
  /** `key` left the server: evicted, or deleted (reported by servers that see deletions). */
  removed(key: string): void;
  /** The server could not keep up and dropped `lines` lines for this watch: what they said is lost. */
  skipped(lines: number): void;
  /** The watch ended: the connection was lost or closed. Nothing more will be reported. */
  ended(error: Error): void;
}

export interface CacheWatch {
  /** Whether deletions are reported (memcached 1.6.20 and later); stores and evictions always are. */
  readonly seesDeletions: boolean;
  close(): void;
}

/** Where a server listens, as `memcache_servers` names it. */
export interface ServerAddress {
  readonly host: string;
  readonly port: number;
}

export interface CachedItem {
  readonly key: string;
  readonly flags: number;
  readonly value: Buffer;
  /** CAS unique; a decimal string because it is a 64-bit counter. */
  readonly cas: string | null;
}

export interface ListingLimits {
  /** The whole listing must arrive within this. */
  readonly timeoutMs: number;
  /** Servers that may never end a listing (memcached before 1.6.9) end it after this much silence. */
  readonly idleMs: number;
  /** A listing stops at this many keys (`truncated`): what a server holds must not size our memory. */
  readonly maxKeys: number;
}

export interface ListedKey {
  /** The key as stored. */
  readonly key: string;
  /** Item size in bytes as the server counts it (value and overhead); 0 when unknown. */
  readonly size: number;
  /** Expiry as Unix seconds; -1 for never, null when unknown. */
  readonly exp: number | null;
}

export interface KeyListing {
  readonly keys: ListedKey[];
  /** False when the listing ended by silence instead of its end marker. */
  readonly complete: boolean;
  /** True when it stopped at `maxKeys` (then not complete either). */
  readonly truncated?: boolean;
}
