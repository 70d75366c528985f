import type { IdentityEvent } from '../core/events.ts';
import type { Target } from '../core/targets.ts';

/** What the core decided for one event: the event itself and its (targeted) invalidation targets. */
export interface Invalidation {
  readonly event: IdentityEvent;
  readonly targets: readonly Target[];
}

/**
 * Something done to the region's memcached for an invalidation: write markers, delete Keystone's
 * region-id keys, purge keystonemiddleware's cached tokens. Each action plans its own work items from
 * the invalidation; items are idempotent, so a redelivered event may be applied again safely.
 */
export interface Action<Item> {
  readonly name: string;
  /** The items this action applies for one invalidation; none when it has nothing to do. */
  plan(invalidation: Invalidation): readonly Item[];
  /**
   * Items in one lane are applied one batch at a time; items arriving while a batch is in flight join
   * the next batch. Markers and region keys use one lane per key; a scan uses a single lane.
   */
  laneOf(item: Item): string;
  /** Identity of an item inside a batch, so duplicates merge. */
  itemKey(item: Item): string;
  /**
   * Resolves once every server has the batch applied; rejects when any server did not. `signal` aborts
   * when the daemon stops, for actions whose work can run long (a scan).
   */
  apply(batch: readonly Item[], signal: AbortSignal): Promise<void>;
  /**
   * Apply each invalidation once more after this long (0: never). Keystone publishes some events before
   * it commits the change, so a service may re-cache the old state in between.
   */
  readonly repeatAfterMs: number;
}
