import type { Action, Invalidation } from '../ports/action.ts';
import { type BackoffPolicy, backoffDelay, sleep } from '../util/backoff.ts';

/** What the processor needs of a coalescer, whatever the item type of its action. */
export interface InvalidationRunner {
  coverInvalidation(invalidation: Invalidation): Promise<void>;
  stop(): void;
}

/** How much coalescing saves: items asked for, and items actually written (the ratio is the saving). */
export interface CoalescerStats {
  requested(items: number): void;
  written(items: number): void;
}

const NO_STATS: CoalescerStats = { requested() {}, written() {} };

/** The daemon is stopping; the delivery waiting on this write stays unsettled and is redelivered. */
export class CoalescerStopped extends Error {
  constructor() {
    super('stopping: the invalidation was not confirmed and will be redelivered');
    this.name = 'CoalescerStopped';
  }
}

interface Batch<Item> {
  readonly items: Map<string, Item>;
  readonly done: PromiseWithResolvers<void>;
}

interface Lane<Item> {
  /** Items that arrived while a batch of this lane was in flight: the one further write. */
  next: Batch<Item> | null;
}

/**
 * Runs an action so that each lane has at most one write in flight. A target that arrives during a
 * write cannot be covered by it (its value was taken earlier), so it joins the lane's next batch; every
 * caller waiting on that batch is answered by one write. A failed write is retried with backoff until it
 * succeeds or the coalescer stops: the delivery behind it is not acknowledged meanwhile.
 */
export class Coalescer<Item> implements InvalidationRunner {
  readonly action: Action<Item>;
  readonly #retry: BackoffPolicy;
  readonly #onRetry: (error: unknown, attempt: number) => void;
  readonly #lanes = new Map<string, Lane<Item>>();
  readonly #stop = new AbortController();
  readonly #stats: CoalescerStats;

  constructor(
    action: Action<Item>,
    retry: BackoffPolicy,
    onRetry: (error: unknown, attempt: number) => void,
    stats: CoalescerStats = NO_STATS,
  ) {
    this.action = action;
    this.#retry = retry;
    this.#onRetry = onRetry;
    this.#stats = stats;
  }

  /** Resolves when a write that began after this call, and covers `item`, has succeeded. */
  cover(item: Item): Promise<void> {
    if (this.#stop.signal.aborted) return Promise.reject(new CoalescerStopped());
    this.#stats.requested(1);
    const key = this.action.laneOf(item);
    const lane = this.#lanes.get(key);
    if (lane === undefined) {
      const batch: Batch<Item> = {
        items: new Map([[this.action.itemKey(item), item]]),
        done: Promise.withResolvers(),
      };
      this.#lanes.set(key, { next: null });
      this.#run(key, batch);
      return batch.done.promise;
    }
    lane.next ??= { items: new Map(), done: Promise.withResolvers<void>() };
    lane.next.items.set(this.action.itemKey(item), item);
    return lane.next.done.promise;
  }

  /**
   * Applies the action's plan for an invalidation: resolves once every item is covered, and covered once
   * more after the action's repeat delay when it has one.
   */
  coverInvalidation(invalidation: Invalidation): Promise<void> {
    const items = this.action.plan(invalidation);
    // Most invalidations are one marker and no repeat: no promise around the one that covers it.
    if (this.action.repeatAfterMs <= 0 && items.length === 1) return this.cover(items[0] as Item);
    return this.#coverAll(items);
  }

  async #coverAll(items: readonly Item[]): Promise<void> {
    await Promise.all(items.map((item) => this.cover(item)));
    if (this.action.repeatAfterMs <= 0 || items.length === 0) return;
    await sleep(this.action.repeatAfterMs, this.#stop.signal);
    await Promise.all(items.map((item) => this.cover(item)));
  }

  /** Writes in flight for how many lanes; 0 when idle. */
  get activeLanes(): number {
    return this.#lanes.size;
  }

  /** Fail every waiting caller; no write starts after this. */
  stop(): void {
    this.#stop.abort();
    for (const lane of this.#lanes.values()) lane.next?.done.reject(new CoalescerStopped());
    this.#lanes.clear();
  }

  #run(key: string, batch: Batch<Item>): void {
    this.#applyUntilDone([...batch.items.values()]).then(
      () => {
        this.#stats.written(batch.items.size);
        batch.done.resolve();
        const lane = this.#lanes.get(key);
        if (lane?.next) {
          const next = lane.next;
          lane.next = null;
          this.#run(key, next);
        } else {
          this.#lanes.delete(key);
        }
      },
      (error: unknown) => {
        // Only a stop ends the retries today; should anything else escape, the lane must not be left
        // occupied, or every later caller on this key would wait forever.
        batch.done.reject(error);
        const lane = this.#lanes.get(key);
        lane?.next?.done.reject(error);
        this.#lanes.delete(key);
      },
    );
  }

  /** The first attempt, and the retry loop only once it failed. */
  #applyUntilDone(items: readonly Item[]): Promise<void> {
    if (this.#stop.signal.aborted) return Promise.reject(new CoalescerStopped());
    return attempt(() => this.action.apply(items, this.#stop.signal)).catch((error: unknown) => {
      if (this.#stop.signal.aborted) throw new CoalescerStopped();
      this.#onRetry(error, 0);
      return sleep(backoffDelay(0, this.#retry), this.#stop.signal).then(() => this.#retryUntilDone(items));
    });
  }

  async #retryUntilDone(items: readonly Item[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      if (this.#stop.signal.aborted) throw new CoalescerStopped();
      try {
        await this.action.apply(items, this.#stop.signal);
        return;
      } catch (error) {
        if (this.#stop.signal.aborted) throw new CoalescerStopped();
        this.#onRetry(error, attempt);
        await sleep(backoffDelay(attempt, this.#retry), this.#stop.signal);
      }
    }
  }
}

/** `apply()`'s promise, or its synchronous throw as a rejection. */
function attempt(apply: () => Promise<void>): Promise<void> {
  try {
    return apply();
  } catch (error) {
    return Promise.reject(error);
  }
}
