import type { CacheServer } from '../ports/cache-server.ts';

/**
 * Whether memcached lost watch lines since a baseline. It loses them two ways: a watcher that falls
 * behind gets `skipped=N` (and `log_watcher_skipped` counts it), but a worker thread whose log buffer
 * is full (a burst of stores between two logger passes) drops lines before any watcher sees them, and
 * only `log_worker_dropped` says so. Both counters are server-wide: another replica's watcher falling
 * behind counts too, which costs a resynchronisation, never a missed entry.
 */
export class WatchLosses {
  readonly #server: CacheServer;
  #baseline = Number.POSITIVE_INFINITY;

  constructor(server: CacheServer) {
    this.#server = server;
  }

  /** Count from now (taken before the watch or the listing that makes the index whole). */
  async baseline(): Promise<void> {
    this.#baseline = await this.#count();
  }

  /** Lines lost since the baseline: the index may miss entries. */
  async sinceBaseline(): Promise<number> {
    return Math.max(0, (await this.#count()) - this.#baseline);
  }

  async #count(): Promise<number> {
    const stats = await this.#server.stats();
    return (stats.log_worker_dropped ?? 0) + (stats.log_watcher_skipped ?? 0);
  }
}
