import type { Target } from '../core/targets.ts';

/**
 * Something done to the region's memcached for invalidation targets: write markers today; delete
 * Keystone's region keys or purge keystonemiddleware's tokens later. Actions are idempotent, so a
 * redelivered event may be applied again safely.
 */
export interface Action {
  readonly name: string;
  /**
   * Targets in one lane are applied one batch at a time; targets arriving while a batch is in flight
   * join the next batch. Markers use one lane per key; a scan-based action would use a single lane.
   */
  laneOf(target: Target): string;
  /** Resolves once every server holds the batch; rejects when any server did not take it. */
  apply(batch: readonly Target[]): Promise<void>;
}
