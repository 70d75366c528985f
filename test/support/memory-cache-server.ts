import { CacheConnectionClosed, CacheUnreachable } from '../../src/ports/cache-errors.ts';
import type {
  CachedItem,
  CacheServer,
  CacheWatch,
  KeyListing,
  ListingLimits,
  StoreEntry,
  WatchListener,
} from '../../src/ports/cache-server.ts';

interface Watcher {
  readonly prefixes: readonly string[];
  readonly listener: WatchListener;
}

interface Stored {
  readonly value: Buffer;
  readonly flags: number;
  readonly cas: string;
  /** Epoch ms when it expires; Infinity for never. */
  expiresAt: number;
}

const VALID_KEY = /^[\x21-\x7e]{1,250}$/;
/** memcached reads an expiry above 30 days as an absolute Unix time. */
const RELATIVE_LIMIT_SECONDS = 30 * 24 * 3600;
/** What memcached adds to key and value in an item's `size` (header, suffix, CAS): about this much. */
const ITEM_OVERHEAD = 50;

/**
 * A memcached server in memory, behind the CacheServer port: the same replies as the real one for the
 * commands the daemon sends (test/integration/cache-server-conformance.test.ts proves it against both
 * local servers), on a clock the test owns, and with the failures a test needs: the server goes away
 * and comes back, restarts empty, evicts a key. Unit tests of the pipeline run on it in milliseconds.
 */
export class MemoryCacheServer implements CacheServer {
  readonly name: string;
  #up = false;
  #away = false;
  #closed = false;
  #nextCas = 1;
  readonly #items = new Map<string, Stored>();
  readonly #watchers = new Set<Watcher>();
  /** Watch lines still to drop, as a memcached whose watcher fell behind would. */
  #skipping = 0;
  #skipped = 0;
  #dropping = 0;
  readonly #counters = { log_worker_dropped: 0, log_watcher_skipped: 0 };
  readonly #now: () => number;
  /** Commands answered, for tests that count round trips. */
  commands = 0;

  constructor(name = 'memory:11211', now: () => number = Date.now) {
    this.name = name;
    this.#now = now;
  }

  get up(): boolean {
    return this.#up;
  }

  /** Refuse every command (as an unreachable server would) until `comeBack`; watches end. */
  goAway(): void {
    this.#away = true;
    this.#up = false;
    this.#endWatches('connection lost');
  }

  /** A restart: everything it held is gone, and so are its watches. */
  restart(): void {
    this.#items.clear();
    this.#counters.log_worker_dropped = 0;
    this.#counters.log_watcher_skipped = 0;
    this.#endWatches('connection lost');
  }

  /** The next `lines` watch lines are dropped, then reported as skipped (memcached's `skipped=N`). */
  skipWatchLines(lines: number): void {
    this.#skipping = lines;
  }

  /**
   * The next `lines` watch lines are dropped without a word, as memcached drops what a worker thread's
   * log buffer cannot hold; only the `log_worker_dropped` counter of `stats` tells.
   */
  dropWatchLines(lines: number): void {
    this.#dropping = lines;
  }

  comeBack(): void {
    this.#away = false;
  }

  /** A restart or a flush: everything it held is gone. */
  wipe(): void {
    this.#items.clear();
  }

  /** The server dropped one item on its own (an LRU eviction). */
  evict(key: string): void {
    if (this.#items.delete(key)) this.#tell(key, (l) => l.removed(key));
  }

  /** The keys it holds now, for assertions. */
  keys(): string[] {
    return [...this.#items.keys()].filter((k) => this.#live(k) !== undefined).sort();
  }

  async gets(keys: readonly string[]): Promise<Map<string, CachedItem>> {
    for (const key of keys) checkKey(key);
    await this.#exchange();
    const found = new Map<string, CachedItem>();
    for (const key of keys) {
      const item = this.#live(key);
      if (item) found.set(key, { key, flags: item.flags, value: Buffer.from(item.value), cas: item.cas });
    }
    return found;
  }

  async add(key: string, value: string, ttlSeconds: number): Promise<'STORED' | 'NOT_STORED'> {
    checkKey(key);
    await this.#exchange();
    if (this.#live(key)) return 'NOT_STORED';
    this.#store(key, value, ttlSeconds);
    return 'STORED';
  }

  async addAll(entries: readonly StoreEntry[]): Promise<('STORED' | 'NOT_STORED')[]> {
    for (const e of entries) checkKey(e.key);
    if (entries.length === 0) return [];
    await this.#exchange();
    return entries.map((e) => {
      if (this.#live(e.key)) return 'NOT_STORED';
      this.#store(e.key, e.value, e.ttlSeconds);
      return 'STORED';
    });
  }

  async cas(
    key: string,
    value: string,
    ttlSeconds: number,
    cas: string,
  ): Promise<'STORED' | 'EXISTS' | 'NOT_FOUND'> {
    checkKey(key);
    await this.#exchange();
    const item = this.#live(key);
    if (item === undefined) return 'NOT_FOUND';
    if (item.cas !== cas) return 'EXISTS';
    this.#store(key, value, ttlSeconds);
    return 'STORED';
  }

  async delete(key: string): Promise<'DELETED' | 'NOT_FOUND'> {
    checkKey(key);
    await this.#exchange();
    if (!(this.#live(key) && this.#items.delete(key))) return 'NOT_FOUND';
    this.#tell(key, (l) => l.removed(key));
    return 'DELETED';
  }

  async touch(key: string, ttlSeconds: number): Promise<'TOUCHED' | 'NOT_FOUND'> {
    checkKey(key);
    await this.#exchange();
    const item = this.#live(key);
    if (item === undefined) return 'NOT_FOUND';
    item.expiresAt = this.#expiry(ttlSeconds);
    return 'TOUCHED';
  }

  async version(): Promise<string> {
    await this.#exchange();
    return '1.6.21 (in memory)';
  }

  async stats(): Promise<Record<string, number>> {
    await this.#exchange();
    return { curr_items: this.keys().length, ...this.#counters };
  }

  async listKeys(prefix: string, _limits: ListingLimits, signal?: AbortSignal): Promise<KeyListing> {
    signal?.throwIfAborted();
    await this.#exchange();
    const keys = this.keys()
      .filter((key) => key.startsWith(prefix))
      .map((key) => {
        const item = this.#items.get(key) as Stored;
        const exp = item.expiresAt === Number.POSITIVE_INFINITY ? -1 : Math.floor(item.expiresAt / 1000);
        return { key, size: key.length + item.value.length + ITEM_OVERHEAD, exp };
      });
    return { keys, complete: true };
  }

  async watch(prefixes: readonly string[], listener: WatchListener): Promise<CacheWatch> {
    await this.#exchange();
    const watcher: Watcher = { prefixes, listener };
    this.#watchers.add(watcher);
    return {
      seesDeletions: true,
      close: () => {
        if (this.#watchers.delete(watcher))
          listener.ended(new CacheConnectionClosed(this.name, 'watch closed'));
      },
    };
  }

  close(): void {
    this.#closed = true;
    this.#up = false;
    this.#endWatches('connection closed');
  }

  /** A watch line, a tick later (as memcached's logger thread delivers them), or dropped when skipping. */
  #tell(key: string, say: (listener: WatchListener) => void): void {
    if (this.#watchers.size === 0) return;
    if (this.#dropping > 0) {
      this.#dropping--;
      this.#counters.log_worker_dropped++;
      return;
    }
    if (this.#skipping > 0) {
      this.#skipping--;
      this.#skipped++;
      this.#counters.log_watcher_skipped++;
      return;
    }
    const skipped = this.#skipped;
    this.#skipped = 0;
    for (const w of [...this.#watchers]) {
      if (!w.prefixes.some((p) => key.startsWith(p))) continue;
      setImmediate(() => {
        if (!this.#watchers.has(w)) return;
        if (skipped > 0) w.listener.skipped(skipped);
        say(w.listener);
      });
    }
  }

  #endWatches(why: string): void {
    for (const w of [...this.#watchers]) {
      this.#watchers.delete(w);
      w.listener.ended(new CacheConnectionClosed(this.name, why));
    }
  }

  /** One round trip: a tick later, as on a socket, and refused while the server is away or closed. */
  async #exchange(): Promise<void> {
    if (this.#closed) throw new CacheConnectionClosed(this.name, 'connection closed');
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (this.#closed) throw new CacheConnectionClosed(this.name, 'connection closed');
    if (this.#away) {
      this.#up = false;
      throw new CacheUnreachable(this.name, 'cannot connect: connection refused');
    }
    this.commands++;
    this.#up = true;
  }

  #live(key: string): Stored | undefined {
    const item = this.#items.get(key);
    if (item === undefined) return undefined;
    if (this.#now() < item.expiresAt) return item;
    this.#items.delete(key);
    return undefined;
  }

  #store(key: string, value: string, ttlSeconds: number): void {
    const cas = String(this.#nextCas++);
    this.#items.set(key, {
      value: Buffer.from(value, 'utf8'),
      flags: 0,
      cas,
      expiresAt: this.#expiry(ttlSeconds),
    });
    this.#tell(key, (l) => l.stored(key, Math.max(0, ttlSeconds)));
  }

  /** memcached's rule: 0 never, negative already expired, up to 30 days relative, beyond that absolute. */
  #expiry(ttlSeconds: number): number {
    if (ttlSeconds === 0) return Number.POSITIVE_INFINITY;
    if (ttlSeconds < 0) return Number.NEGATIVE_INFINITY;
    if (ttlSeconds > RELATIVE_LIMIT_SECONDS) return ttlSeconds * 1000;
    return this.#now() + ttlSeconds * 1000;
  }
}

function checkKey(key: string): void {
  if (!VALID_KEY.test(key)) throw new RangeError('memcached keys are 1-250 printable ASCII characters');
}

/** A clock a test moves by hand, for the in-memory servers' expiry. */
export class ManualClock {
  #ms: number;

  constructor(startMs = Date.UTC(2026, 11, 2)) {
    this.#ms = startMs;
  }

  readonly now = (): number => this.#ms;

  advance(ms: number): void {
    this.#ms += ms;
  }
}
