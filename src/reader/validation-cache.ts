import { createHash } from 'node:crypto';
import { OldestFirst } from '../core/oldest-first.ts';
import type { CacheMarkerReader } from './cache-marker-reader.ts';

export type TokenBody = Readonly<Record<string, unknown>>;

export interface ValidationCacheOptions {
  readonly reader: CacheMarkerReader;
  /** How long a validation is reused at most (keystonemiddleware's token_cache_time: 300 s). */
  readonly ttlMs?: number;
  readonly maxEntries?: number;
  readonly now?: () => number;
}

interface Entry {
  readonly cachedAt: number;
  readonly token: TokenBody;
  readonly expiresAt: number;
}

/**
 * A token-validation cache for Node services that validate Keystone tokens, honouring invalidation
 * markers. The cached-at time is stamped BEFORE the validation request is sent: a change that lands while
 * the request is in flight is then newer than the entry, and its marker makes the entry stale.
 */
export class ValidationCache {
  readonly #reader: CacheMarkerReader;
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;
  readonly #entries = new Map<string, Entry>();
  readonly #oldest = new OldestFirst(this.#entries);

  constructor(options: ValidationCacheOptions) {
    this.#reader = options.reader;
    this.#ttlMs = options.ttlMs ?? 300_000;
    this.#maxEntries = options.maxEntries ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  /** The validated token body: from the cache when still fresh, else from `validate` (then cached). */
  async get(tokenId: string, validate: (tokenId: string) => Promise<TokenBody>): Promise<TokenBody> {
    // Entries are keyed by a hash: the cache never holds a usable token id.
    const key = createHash('sha256').update(tokenId).digest('hex');
    const entry = this.#entries.get(key);
    const fresh =
      entry && entry.expiresAt > this.#now() && !(await this.#reader.isStale(entry.token, entry.cachedAt));
    if (entry && fresh) {
      // Map order is insertion order: re-inserting keeps the least recently used first. Only if no
      // forget() or newer entry came in while the markers were read.
      if (this.#entries.get(key) === entry) {
        this.#entries.delete(key);
        this.#entries.set(key, entry);
      }
      return entry.token;
    }
    if (this.#entries.get(key) === entry) this.#entries.delete(key);
    const cachedAt = this.#now();
    const token = await validate(tokenId);
    // Never beyond the token's own expiry: no marker announces that a token ran out.
    const expiresAt = Math.min(cachedAt + this.#ttlMs, Date.parse(String(token.expires_at)));
    if (!(expiresAt > cachedAt)) return token; // no readable expiry, or already expired: not cached
    this.#entries.set(key, { cachedAt, token, expiresAt });
    if (this.#entries.size > this.#maxEntries) {
      const oldest = this.#oldest.take();
      if (oldest !== undefined) this.#entries.delete(oldest[0]);
    }
    return token;
  }

  /** Forget a token (for example after Keystone rejected it). */
  forget(tokenId: string): void {
    this.#entries.delete(createHash('sha256').update(tokenId).digest('hex'));
  }

  get size(): number {
    return this.#entries.size;
  }
}
