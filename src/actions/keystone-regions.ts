import { type RegionSelection, regionKey, regionsFor } from '../core/keystone-regions.ts';
import type { Action, Invalidation } from '../ports/action.ts';
import type { CacheServer } from '../ports/cache-server.ts';
import type { Replayable } from '../ports/replayable.ts';
import { applyOnEveryServer, type EveryServerObserver } from './every-server.ts';
import { ServerBacklog } from './server-backlog.ts';

export interface KeystoneRegionsSettings extends RegionSelection {
  readonly repeatAfterMs: number;
}

/** `applied`: the region's id key is deleted on a server and every other server will have it deleted. */
export type KeystoneRegionsObserver = EveryServerObserver<string>;

/**
 * Resets Keystone's own caches in this region by deleting their dogpile region-id keys on every server.
 * Delete, never write: the value is a Python pickle whose format depends on the dogpile version.
 */
export class KeystoneRegionsAction implements Action<string>, Replayable {
  readonly name = 'keystoneRegions';
  readonly repeatAfterMs: number;
  readonly #servers: readonly CacheServer[];
  readonly #settings: KeystoneRegionsSettings;
  readonly #observer: KeystoneRegionsObserver;
  // Regions are few (the configured list), so the backlog needs no bound.
  readonly #missed = new ServerBacklog<string>(
    (region) => region,
    Number.POSITIVE_INFINITY,
    () => [],
  );

  constructor(
    servers: readonly CacheServer[],
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
    const missed = (server: string, regions: readonly string[]) => this.#missed.add(server, regions);
    await applyOnEveryServer(this.#servers, batch, remove, this.#observer, missed, 'region key deletion');
  }

  pending(server: string): number {
    return this.#missed.pending(server);
  }

  async replay(name: string): Promise<void> {
    const server = this.#servers.find((s) => s.name === name);
    if (server === undefined) return;
    await this.#missed.replay(name, async (regions) => {
      await Promise.all(regions.map((region) => remove(server, region)));
    });
  }
}

function remove(server: CacheServer, region: string): Promise<unknown> {
  return server.delete(regionKey(region));
}
