import type { MemcachedConnection } from '../adapters/memcached/connection.ts';
import { type RegionSelection, regionKey, regionsFor } from '../core/keystone-regions.ts';
import type { Action, Invalidation } from '../ports/action.ts';
import { applyOnEveryServer, type EveryServerObserver } from './every-server.ts';

export interface KeystoneRegionsSettings extends RegionSelection {
  readonly repeatAfterMs: number;
}

/** `applied`: the region's id key is deleted on every server (the region is reset). */
export type KeystoneRegionsObserver = EveryServerObserver<string>;

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
    const remove = (server: MemcachedConnection, region: string) => server.delete(regionKey(region));
    await applyOnEveryServer(this.#servers, batch, remove, this.#observer, 'region key deletion');
  }
}
