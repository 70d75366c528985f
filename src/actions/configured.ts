import type { Config } from '../config/load.ts';
import type { Action } from '../ports/action.ts';
import type { CacheServer } from '../ports/cache-server.ts';
import type { Replayable } from '../ports/replayable.ts';
import { KeystoneRegionsAction, type KeystoneRegionsObserver } from './keystone-regions.ts';
import { type MarkerObserver, MarkersAction } from './markers.ts';
import { MiddlewarePurgeAction, type PurgeObserver } from './middleware-purge.ts';
import type { PurgeIndexLookup } from './purge-index.ts';

export interface ActionObservers {
  readonly markers: MarkerObserver;
  readonly keystoneRegions: KeystoneRegionsObserver;
  readonly middlewarePurge: PurgeObserver;
}

export type AnyAction = Action<unknown> & Replayable;

export interface ConfiguredActions {
  readonly markers: MarkersAction;
  /** Markers first, then the enabled optional actions, in config order. */
  readonly all: readonly AnyAction[];
}

/** The actions the configuration enables: markers always, keystoneRegions and middlewarePurge when on. */
export function configuredActions(
  config: Config,
  servers: readonly CacheServer[],
  now: () => number,
  observers: ActionObservers,
  purgeIndexes: ReadonlyMap<string, PurgeIndexLookup> = new Map(),
): ConfiguredActions {
  const markers = new MarkersAction(servers, config.markers, now, observers.markers);
  const all: AnyAction[] = [markers];
  if (config.keystoneRegions.enabled) {
    all.push(new KeystoneRegionsAction(servers, config.keystoneRegions, observers.keystoneRegions));
  }
  if (config.middlewarePurge.enabled) {
    all.push(
      new MiddlewarePurgeAction(servers, config.middlewarePurge, observers.middlewarePurge, purgeIndexes),
    );
  }
  return { markers, all };
}
