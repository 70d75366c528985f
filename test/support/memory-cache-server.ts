import { CacheConnectionClosed, CacheUnreachable } from '../../src/ports/cache-errors.ts';
import type { CachedItem, CacheServer, KeyListing, ListingLimits } from '../../src/ports/cache-server.ts';

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

  /** Refuse every command (as an unreachable server would) until `comeBack`. */
  goAway(): void {
    this.#away = true;
    this.#up = false;
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
    this.#items.delete(key);
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
    return this.#live(key) && this.#items.delete(key) ? 'DELETED' : 'NOT_FOUND';
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

  close(): void {
    this.#closed = true;
    this.#up = false;
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
