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
  /** The lanes whose items are in this batch. */
  readonly lanes: Set<string>;
  readonly done: PromiseWithResolvers<void>;
}

interface Lane<Item> {
  /** Items that arrived while this lane's write was in flight: they join the batch formed after it. */
  next: Batch<Item> | null;
}

function newBatch<Item>(): Batch<Item> {
  return { items: new Map(), lanes: new Set(), done: Promise.withResolvers() };
}

/**
 * Runs an action so that each lane has at most one write in flight. A target that arrives during a
 * write cannot be covered by it (its value was taken earlier), so it waits for the lane's next write;
 * every caller waiting on that write is answered by it. Items of idle lanes that arrive in the same
 * tick (a socket read's deliveries, in a drain) go in one batch: one apply, one request per server. A
 * failed write is retried with backoff until it succeeds or the coalescer stops: the deliveries behind
 * it are not acknowledged meanwhile.
 */
export class Coalescer<Item> implements InvalidationRunner {
  readonly action: Action<Item>;
  readonly #retry: BackoffPolicy;
  readonly #onRetry: (error: unknown, attempt: number) => void;
  /** Every lane with items forming or in flight. */
  readonly #lanes = new Map<string, Lane<Item>>();
  /** The batch of this tick, started once the tick's promise jobs have run. */
  #forming: Batch<Item> | null = null;
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
    // A lane is idle, forming (its items wait in this tick's batch) or in flight.
    if (lane === undefined || this.#forming?.lanes.has(key)) {
      if (lane === undefined) this.#lanes.set(key, { next: null });
      const batch = this.#join(key);
      batch.items.set(this.action.itemKey(item), item);
      return batch.done.promise;
    }
    lane.next ??= newBatch();
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
    this.#forming?.done.reject(new CoalescerStopped());
    this.#forming = null;
    for (const lane of this.#lanes.values()) lane.next?.done.reject(new CoalescerStopped());
    this.#lanes.clear();
  }

  /**
   * Lane `key` joins the batch forming this tick (the caller adds its items); the first lane of a tick
   * schedules the batch's start.
   */
  #join(key: string): Batch<Item> {
    let batch = this.#forming;
    if (batch === null) {
      const forming = newBatch<Item>();
      this.#forming = batch = forming;
      queueMicrotask(() => {
        if (this.#forming !== forming) return; // stopped meanwhile
        this.#forming = null;
        this.#run(forming);
      });
    }
    batch.lanes.add(key);
    return batch;
  }

  #run(batch: Batch<Item>): void {
    this.#applyUntilDone([...batch.items.values()]).then(
      () => {
        this.#stats.written(batch.items.size);
        batch.done.resolve();
        for (const key of batch.lanes) this.#afterWrite(key);
      },
      (error: unknown) => {
        // Only a stop ends the retries today; should anything else escape, the lanes must not be left
        // occupied, or every later caller on their keys would wait forever.
        batch.done.reject(error);
        for (const key of batch.lanes) {
          this.#lanes.get(key)?.next?.done.reject(error);
          this.#lanes.delete(key);
        }
      },
    );
  }

  /** A lane's write is done: what arrived meanwhile joins the batch forming now, or the lane is free. */
  #afterWrite(key: string): void {
    const lane = this.#lanes.get(key);
    if (lane === undefined) return;
    const waiting = lane.next;
    if (waiting === null) {
      this.#lanes.delete(key);
      return;
    }
    lane.next = null;
    const batch = this.#join(key);
    for (const [itemKey, item] of waiting.items) batch.items.set(itemKey, item);
    batch.done.promise.then(waiting.done.resolve, waiting.done.reject);
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
