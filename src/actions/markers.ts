import { LiveMarkers } from '../core/live-markers.ts';
import { markerKey, markerTime } from '../core/marker.ts';
import { type MarkerMode, withMode } from '../core/rules.ts';
import { GLOBAL, type Target, targetName } from '../core/targets.ts';
import type { Action, Invalidation } from '../ports/action.ts';
import type { CacheServer } from '../ports/cache-server.ts';
import type { Replayable } from '../ports/replayable.ts';
import { applyBatchOnEveryServer, type EveryServerObserver } from './every-server.ts';
import { type BatchedMarker, writeMarkerBatch, writeMarkers } from './write-marker.ts';

export interface MarkerSettings {
  readonly prefix: string;
  readonly ttlSeconds: number;
  readonly clockSkewMarginMs: number;
  readonly mode: MarkerMode;
  /** How many live markers are remembered for re-assertion before the oldest fold into the global one. */
  readonly liveLimit: number;
}

/** `applied`: a server holds the marker and every other server will be given it. */
export type MarkerObserver = EveryServerObserver<Target>;

/** Markers re-asserted per multi-get (and writes in flight at once for those a server lacks). */
const REASSERT_CHUNK = 256;

/**
 * Writes invalidation markers (docs/protocol.md) to every server; one lane per marker key. Remembers
 * every marker until it expires, so a server that missed writes, lost its data or evicted a marker is
 * given the live markers again (re-asserted): writes are monotonic, so re-asserting is always safe.
 */
export class MarkersAction implements Action<Target>, Replayable {
  readonly name = 'markers';
  // No second pass: the clock-skew margin already dates the marker after Keystone's commit.
  readonly repeatAfterMs = 0;
  readonly #servers: readonly CacheServer[];
  readonly #settings: MarkerSettings;
  readonly #now: () => number;
  readonly #observer: MarkerObserver;
  readonly #live: LiveMarkers;
  /** Servers that are owed every live marker. */
  readonly #owed = new Set<string>();

  constructor(
    servers: readonly CacheServer[],
    settings: MarkerSettings,
    now: () => number,
    observer: MarkerObserver,
  ) {
    this.#servers = servers;
    this.#settings = settings;
    this.#now = now;
    this.#observer = observer;
    this.#live = new LiveMarkers(settings.liveLimit, markerKey(settings.prefix, GLOBAL));
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

  apply(batch: readonly Target[]): Promise<void> {
    // The clock is read when the write starts, so the marker is later than every event in the batch.
    const nowMs = this.#now();
    const valueMs = markerTime(nowMs, this.#settings.clockSkewMarginMs);
    const expiresAtMs = nowMs + this.#settings.ttlSeconds * 1000;
    // A marker this daemon does not remember is most likely absent everywhere: try `add` first.
    const markers: BatchedMarker[] = batch.map((target) => {
      const key = this.laneOf(target);
      const known = this.#live.record(key, valueMs, expiresAtMs);
      return { key, expect: known ? 'present' : 'absent' };
    });
    const { ttlSeconds } = this.#settings;
    const write = (server: CacheServer) => writeMarkerBatch(server, markers, valueMs, ttlSeconds);
    const owe = (server: string) => this.#owed.add(server);
    return applyBatchOnEveryServer(this.#servers, batch, write, this.#observer, owe, 'marker write');
  }

  /** `server` may have lost markers (it restarted, was flushed, or evicts): give it every live one. */
  owe(server: string): void {
    this.#owed.add(server);
  }

  /** Remember a marker found on a server (after a restart of this daemon), to re-assert it everywhere. */
  remember(key: string, valueMs: number, expiresAtMs: number): void {
    this.#live.record(key, valueMs, expiresAtMs);
  }

  get liveCount(): number {
    return this.#live.size;
  }

  pending(server: string): number {
    return this.#owed.has(server) ? this.#live.size : 0;
  }

  async replay(name: string, signal: AbortSignal): Promise<void> {
    const server = this.#servers.find((s) => s.name === name);
    if (server === undefined || !this.#owed.delete(name)) return;
    try {
      const live = this.#live.live(this.#now());
      for (let i = 0; i < live.length; i += REASSERT_CHUNK) {
        signal.throwIfAborted();
        const nowMs = this.#now();
        const chunk = live.slice(i, i + REASSERT_CHUNK).map((m) => ({
          key: m.key,
          valueMs: m.valueMs,
          ttlSeconds: Math.max(1, Math.ceil((m.expiresAtMs - nowMs) / 1000)),
        }));
        await writeMarkers(server, chunk);
      }
    } catch (error) {
      this.#owed.add(name);
      throw error;
    }
  }
}
