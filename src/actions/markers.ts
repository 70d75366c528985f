import type { MemcachedConnection } from '../adapters/memcached/connection.ts';
import { markerKey, markerTime } from '../core/marker.ts';
import type { Target } from '../core/targets.ts';
import type { Action } from '../ports/action.ts';
import { writeMarker } from './write-marker.ts';

export interface MarkerSettings {
  readonly prefix: string;
  readonly ttlSeconds: number;
  readonly clockSkewMarginMs: number;
}

export interface MarkerObserver {
  written(target: Target, server: string): void;
  failed(target: Target, server: string, error: unknown): void;
}

/** Writes invalidation markers (docs/protocol.md) to every server; one lane per marker key. */
export class MarkersAction implements Action {
  readonly name = 'markers';
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

  laneOf(target: Target): string {
    return markerKey(this.#settings.prefix, target);
  }

  async apply(batch: readonly Target[]): Promise<void> {
    // The clock is read when the write starts, so the marker is later than every event in the batch.
    const valueMs = markerTime(this.#now(), this.#settings.clockSkewMarginMs);
    const writes = batch.flatMap((target) =>
      this.#servers.map(async (server) => {
        try {
          await writeMarker(server, this.laneOf(target), valueMs, this.#settings.ttlSeconds);
          this.#observer.written(target, server.name);
        } catch (error) {
          this.#observer.failed(target, server.name, error);
          throw error;
        }
      }),
    );
    const failures = (await Promise.allSettled(writes)).filter((r) => r.status === 'rejected');
    if (failures.length > 0) {
      throw new AggregateError(
        failures.map((f) => f.reason),
        `markers not written on ${failures.length} of ${writes.length} server writes`,
      );
    }
  }
}
