import { OldestFirst } from './oldest-first.ts';

/**
 * Where the revocation poller stands: which `since` to ask Keystone for, and which events it has
 * applied already. Keystone answers the events with `revoked_at > since`, with `revoked_at` truncated
 * to whole seconds, so `since` lags the newest applied event by an overlap: an event of the same second
 * that arrives later is still asked for, and the ones seen twice are recognised. `since` stays the same
 * while nothing new arrives, which Keystone answers from its cache.
 */
export class RevocationCursor {
  readonly #overlapMs: number;
  readonly #limit: number;
  /** Applied events that `since` can still return, key → revoked_at; bounded by `limit`. */
  readonly #applied = new Map<string, number>();
  readonly #oldest = new OldestFirst(this.#applied);
  readonly #startMs: number;
  /** The newest `revoked_at` committed; null before the first event. */
  #newestMs: number | null = null;
  /** The newest recorded by this batch, not yet committed. */
  #pendingNewestMs: number | null = null;

  /** `startMs`: how far back the first poll looks (the look-back after a start). */
  constructor(startMs: number, overlapMs: number, limit: number) {
    this.#startMs = startMs;
    this.#overlapMs = overlapMs;
    this.#limit = limit;
  }

  /** The `since` of the next poll (epoch ms). */
  get sinceMs(): number {
    return this.#newestMs === null ? this.#startMs : this.#newestMs - this.#overlapMs;
  }

  /** The newest `revoked_at` applied so far, or null before the first. */
  get newestMs(): number | null {
    return this.#newestMs;
  }

  /** Of the events an answer holds (by key), those not applied yet. */
  unseen<E extends { readonly key: string }>(events: readonly E[]): E[] {
    return events.filter((e) => !this.#applied.has(e.key));
  }

  /**
   * An event is applied (or can never be: then without a time): never handed out again, and `since`
   * may move up to it at the next commit.
   */
  record(key: string, revokedAtMs: number | null): void {
    this.#applied.set(key, revokedAtMs ?? this.sinceMs + this.#overlapMs);
    if (revokedAtMs !== null) {
      this.#pendingNewestMs = Math.max(this.#pendingNewestMs ?? revokedAtMs, revokedAtMs);
    }
    // Past the bound the oldest are forgotten: handed out again at worst, and applying twice is harmless.
    while (this.#applied.size > this.#limit) {
      const oldest = this.#oldest.take();
      if (oldest === undefined) break;
      this.#applied.delete(oldest[0]);
    }
  }

  /**
   * Every event of the batch was recorded: `since` moves up to the newest of them. A batch with an
   * event left unapplied is not committed, so `since` never passes an event that still has to come.
   */
  commit(): void {
    if (
      this.#pendingNewestMs !== null &&
      (this.#newestMs === null || this.#pendingNewestMs > this.#newestMs)
    ) {
      this.#newestMs = this.#pendingNewestMs;
    }
    this.#pendingNewestMs = null;
    const since = this.sinceMs;
    for (const [key, at] of this.#applied) if (at <= since) this.#applied.delete(key);
  }

  /** A batch that could not be applied whole: what it recorded moves nothing. */
  abandon(): void {
    this.#pendingNewestMs = null;
  }

  get size(): number {
    return this.#applied.size;
  }
}
