import type { Logger } from './logger.ts';

type ItemLevel = 'info' | 'warn';

/**
 * How many per-item log lines ("invalidation written", "parked …") the daemon writes each second. An
 * operator reads them one by one at Keystone's usual pace; while a backlog drains (thousands a second)
 * they cost more CPU than the invalidations themselves and flood the log pipeline. Past the limit, the
 * second's remaining lines are left out and one summary line says how many of each were (the metrics
 * count every item).
 */
export class ItemLines {
  readonly #logger: Logger;
  readonly #perSecond: number;
  readonly #now: () => number;
  #windowStart = Number.NEGATIVE_INFINITY;
  #written = 0;
  /** Lines left out in the current window, by message. */
  #leftOut = new Map<string, number>();
  #leftOutWarn = false;
  #summary: NodeJS.Timeout | null = null;

  constructor(logger: Logger, perSecond: number, now: () => number = Date.now) {
    this.#logger = logger;
    this.#perSecond = perSecond;
    this.#now = now;
  }

  /**
   * Whether the caller should write its line `message` at `level` now. False when the level is off (the
   * caller then builds nothing) or the second's lines are used up (counted for the summary).
   */
  allow(level: ItemLevel, message: string): boolean {
    if (!this.#logger.isLevelEnabled(level)) return false;
    const now = this.#now();
    if (now - this.#windowStart >= 1000) {
      this.#windowStart = now;
      this.#written = 0;
    }
    if (this.#written < this.#perSecond) {
      this.#written++;
      return true;
    }
    this.#leftOut.set(message, (this.#leftOut.get(message) ?? 0) + 1);
    if (level === 'warn') this.#leftOutWarn = true;
    // The summary goes at the end of the window, even when no item follows to trigger it.
    this.#summary ??= setTimeout(() => this.flush(), this.#windowStart + 1000 - now).unref();
    return false;
  }

  /** Write the summary of what was left out, if anything (at the window's end, and at stop). */
  flush(): void {
    if (this.#summary) clearTimeout(this.#summary);
    this.#summary = null;
    if (this.#leftOut.size === 0) return;
    const leftOut = Object.fromEntries(this.#leftOut);
    const fields = { leftOut, limitPerSecond: this.#perSecond };
    const message = 'per-item log lines over log.itemLinesPerSecond were left out (metrics count every item)';
    if (this.#leftOutWarn) this.#logger.warn(fields, message);
    else this.#logger.info(fields, message);
    this.#leftOut = new Map();
    this.#leftOutWarn = false;
  }
}
