import type { MemcachedConnection } from '../adapters/memcached/connection.ts';
import { type RegionSelection, regionKey, regionsFor } from '../core/keystone-regions.ts';
import type { Action, Invalidation } from '../ports/action.ts';
import { onEveryServer, throwIfFailed } from './every-server.ts';

export interface KeystoneRegionsSettings extends RegionSelection {
  readonly repeatAfterMs: number;
}

export interface KeystoneRegionsObserver {
  /** Every server has this region's id key deleted. */
  reset(region: string): void;
  failed(region: string, server: string, error: unknown): void;
}

/**
 * Resets Keystone's own caches in this region by deleting their dogpile region-id keys on every server.
 * Delete, never write: the value is a Python pickle whose format depends on the dogpile version.
 */
export class KeystoneRegionsAction implements Action<string> {
  readonly name = 'keystoneRegions';
  readonly repeatAfterMs: number;
  readonly #servers: readonly MemcachedConnection[];
  readonly #settings: KeystoneRegionsSettings;
  readonly #observer: KeystoneRegionsObserver;

  constructor(
    servers: readonly MemcachedConnection[],
    settings: KeystoneRegionsSettings,
    observer: KeystoneRegionsObserver,
  ) {
    this.#servers = servers;
    this.#settings = settings;
    this.#observer = observer;
    this.repeatAfterMs = settings.repeatAfterMs;
  }

  plan(invalidation: Invalidation): readonly string[] {
    return regionsFor(invalidation.event, invalidation.targets, this.#settings);
  }

  laneOf(region: string): string {
    return regionKey(region);
  }

  itemKey(region: string): string {
    return region;
  }

  async apply(batch: readonly string[]): Promise<void> {
    const failures = await Promise.all(
      batch.map(async (region) => {
        const key = regionKey(region);
        const failed = await onEveryServer(
          this.#servers,
          (server) => server.delete(key),
          (server, error) => this.#observer.failed(region, server, error),
        );
        if (failed.length === 0) this.#observer.reset(region);
        return failed;
      }),
    );
    throwIfFailed(failures.flat(), 'region key deletion');
  }
}
