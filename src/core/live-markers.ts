import { OldestFirst } from './oldest-first.ts';

/** One marker this daemon wrote and must keep on every server until it expires. */
export interface LiveMarker {
  readonly key: string;
  readonly valueMs: number;
  readonly expiresAtMs: number;
}

/**
 * The markers written within their TTL: what a server that missed writes, lost its data (restart,
 * flush_all) or evicted a marker must be given again. Bounded: past `limit` the oldest marker is folded
 * into the summary marker (the global one) with the same time, which still makes every validation it
 * covered stale, at the price of more re-validation on the server it is re-asserted to.
 */
export class LiveMarkers {
  readonly #limit: number;
  readonly #summaryKey: string;
  // Insertion order is write order: a re-recorded key moves to the end, so the first entry expires first.
  // The key is not repeated in the entry: at the default limit (100,000) every byte per marker counts.
  readonly #entries = new Map<string, { valueMs: number; expiresAtMs: number }>();
  readonly #oldest = new OldestFirst(this.#entries);

  constructor(limit: number, summaryKey: string) {
    if (limit < 1) throw new RangeError('LiveMarkers needs a limit of at least 1');
    this.#limit = limit;
    this.#summaryKey = summaryKey;
  }

  /**
   * Keep `key` at no less than `valueMs` until at least `expiresAtMs`. Returns whether it was remembered
   * already (and so, most likely, is on the servers): the writer chooses its first command by it.
   */
  record(key: string, valueMs: number, expiresAtMs: number): boolean {
    const known = this.#entries.get(key);
    if (known !== undefined) {
      this.#entries.delete(key);
      known.valueMs = Math.max(valueMs, known.valueMs);
      known.expiresAtMs = Math.max(expiresAtMs, known.expiresAtMs);
      this.#entries.set(key, known);
      return true;
    }
    this.#entries.set(key, { valueMs, expiresAtMs });
    while (this.#entries.size > this.#limit) this.#foldOldest();
    return false;
  }

  /** The markers still alive at `nowMs`, oldest first; expired ones are forgotten. */
  live(nowMs: number): LiveMarker[] {
    const live: LiveMarker[] = [];
    for (const [key, { valueMs, expiresAtMs }] of this.#entries) {
      if (expiresAtMs <= nowMs) this.#entries.delete(key);
      else live.push({ key, valueMs, expiresAtMs });
    }
    return live;
  }

  get size(): number {
    return this.#entries.size;
  }

  #foldOldest(): void {
    // The summary is passed over: at most one lap of the entries finds the oldest other marker.
    for (let steps = this.#entries.size + 1; steps > 0; steps--) {
      const taken = this.#oldest.take();
      if (taken === undefined) return;
      const [key, oldest] = taken;
      if (key === this.#summaryKey) continue;
      this.#entries.delete(key);
      const summary = this.#entries.get(this.#summaryKey);
      this.#entries.set(this.#summaryKey, {
        valueMs: Math.max(oldest.valueMs, summary?.valueMs ?? 0),
        expiresAtMs: Math.max(oldest.expiresAtMs, summary?.expiresAtMs ?? 0),
      });
      return;
    }
  }
}
