import type { CacheServer } from '../ports/cache-server.ts';
import { sleep } from '../util/backoff.ts';

const FENCE_TTL_SECONDS = 10;

/**
 * Fences in a server's watch stream: a key of this process's own, stored now, and awaited until its
 * watcher line arrives. Everything the server logged before the store has then been delivered, but for
 * one logger pass (memcached collects each worker thread's lines in turns): hence two fences in a row.
 */
export class WatchFences {
  readonly #server: CacheServer;
  readonly #prefix: string;
  readonly #timeoutMs: number;
  readonly #waiting = new Map<string, () => void>();
  #count = 0;

  constructor(server: CacheServer, prefix: string, timeoutMs: number) {
    this.#server = server;
    this.#prefix = prefix;
    this.#timeoutMs = timeoutMs;
  }

  /** Whether a stored key is a fence (ours, or the heartbeat): the watch consumes it. */
  consume(key: string): boolean {
    if (!key.startsWith(this.#prefix)) return false;
    const seen = this.#waiting.get(key);
    this.#waiting.delete(key);
    seen?.();
    return true;
  }

  /** True once two fences written now came back through the watch; false after the timeout. */
  async pass(): Promise<boolean> {
    return (await this.#one()) && (await this.#one());
  }

  /** Let every waiting fence go (the watch is gone; the caller checks why). */
  releaseAll(): void {
    for (const seen of this.#waiting.values()) seen();
    this.#waiting.clear();
  }

  async #one(): Promise<boolean> {
    const key = `${this.#prefix}${++this.#count}`;
    const seen = new Promise<void>((resolve) => this.#waiting.set(key, resolve));
    try {
      await this.#server.add(key, '1', FENCE_TTL_SECONDS);
    } catch {
      this.#waiting.delete(key);
      return false;
    }
    const timer = new AbortController();
    const ok = await Promise.race([
      seen.then(() => true),
      sleep(this.#timeoutMs, timer.signal).then(() => false),
    ]);
    timer.abort();
    this.#waiting.delete(key);
    return ok;
  }
}
