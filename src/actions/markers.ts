import type { MemcachedConnection } from '../adapters/memcached/connection.ts';
import { markerKey, markerTime } from '../core/marker.ts';
import { type MarkerMode, withMode } from '../core/rules.ts';
import { type Target, targetName } from '../core/targets.ts';
import type { Action, Invalidation } from '../ports/action.ts';
import { applyOnEveryServer, type EveryServerObserver } from './every-server.ts';
import { writeMarker } from './write-marker.ts';

export interface MarkerSettings {
  readonly prefix: string;
  readonly ttlSeconds: number;
  readonly clockSkewMarginMs: number;
  readonly mode: MarkerMode;
}

/** `applied`: every server holds the marker for this target. */
export type MarkerObserver = EveryServerObserver<Target>;

/** Writes invalidation markers (docs/protocol.md) to every server; one lane per marker key. */
export class MarkersAction implements Action<Target> {
  readonly name = 'markers';
  // No second pass: the clock-skew margin already dates the marker after Keystone's commit.
  readonly repeatAfterMs = 0;
  readonly #servers: readonly MemcachedConnection[];
  readonly #settings: MarkerSettings;
  readonly #now: () => number;
  readonly #observer: MarkerObserver;

  constructor(
    servers: readonly MemcachedConnection[],
    settings: MarkerSettings,
    now: () => number,
    observer: MarkerObserver,
  ) {
    this.#servers = servers;
    this.#settings = settings;
    this.#now = now;
    this.#observer = observer;
  }

  plan(invalidation: Invalidation): readonly Target[] {
    return withMode(invalidation.targets, this.#settings.mode);
  }

  laneOf(target: Target): string {
    return markerKey(this.#settings.prefix, target);
  }

  itemKey(target: Target): string {
    return targetName(target);
  }

  async apply(batch: readonly Target[]): Promise<void> {
    // The clock is read when the write starts, so the marker is later than every event in the batch.
    const valueMs = markerTime(this.#now(), this.#settings.clockSkewMarginMs);
    const write = (server: MemcachedConnection, target: Target) =>
      writeMarker(server, this.laneOf(target), valueMs, this.#settings.ttlSeconds);
    await applyOnEveryServer(this.#servers, batch, write, this.#observer, 'marker write');
  }
}
