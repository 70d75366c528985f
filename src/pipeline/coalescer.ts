import { type Target, targetName } from '../core/targets.ts';
import type { Action } from '../ports/action.ts';
import { type BackoffPolicy, backoffDelay, sleep } from '../util/backoff.ts';

/** The daemon is stopping; the delivery waiting on this write stays unsettled and is redelivered. */
export class CoalescerStopped extends Error {
  constructor() {
    super('stopping: the invalidation was not confirmed and will be redelivered');
    this.name = 'CoalescerStopped';
  }
}

interface Batch {
  readonly targets: Map<string, Target>;
  readonly done: PromiseWithResolvers<void>;
}

interface Lane {
  /** Targets that arrived while a batch of this lane was in flight: the one further write. */
  next: Batch | null;
}

/**
 * Runs an action so that each lane has at most one write in flight. A target that arrives during a
 * write cannot be covered by it (its value was taken earlier), so it joins the lane's next batch; every
 * caller waiting on that batch is answered by one write. A failed write is retried with backoff until it
 * succeeds or the coalescer stops: the delivery behind it is not acknowledged meanwhile.
 */
export class Coalescer {
  readonly action: Action;
  readonly #retry: BackoffPolicy;
  readonly #onRetry: (error: unknown, attempt: number) => void;
  readonly #lanes = new Map<string, Lane>();
  readonly #stop = new AbortController();

  constructor(action: Action, retry: BackoffPolicy, onRetry: (error: unknown, attempt: number) => void) {
    this.action = action;
    this.#retry = retry;
    this.#onRetry = onRetry;
  }

  /** Resolves when a write that began after this call, and covers `target`, has succeeded. */
  cover(target: Target): Promise<void> {
    if (this.#stop.signal.aborted) return Promise.reject(new CoalescerStopped());
    const key = this.action.laneOf(target);
    const lane = this.#lanes.get(key);
    if (lane === undefined) {
      const batch = newBatch(target);
      this.#lanes.set(key, { next: null });
      this.#run(key, batch);
      return batch.done.promise;
    }
    lane.next ??= { targets: new Map(), done: Promise.withResolvers<void>() };
    lane.next.targets.set(targetName(target), target);
    return lane.next.done.promise;
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

  #run(key: string, batch: Batch): void {
    this.#applyUntilDone([...batch.targets.values()]).then(
      () => {
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

  async #applyUntilDone(targets: readonly Target[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      if (this.#stop.signal.aborted) throw new CoalescerStopped();
      try {
        await this.action.apply(targets);
        return;
      } catch (error) {
        if (this.#stop.signal.aborted) throw new CoalescerStopped();
        this.#onRetry(error, attempt);
        await sleep(backoffDelay(attempt, this.#retry), this.#stop.signal);
      }
    }
  }
}

function newBatch(target: Target): Batch {
  return { targets: new Map([[targetName(target), target]]), done: Promise.withResolvers<void>() };
}
