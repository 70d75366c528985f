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
  readonly #entries = new Map<string, LiveMarker>();

  constructor(limit: number, summaryKey: string) {
    if (limit < 1) throw new RangeError('LiveMarkers needs a limit of at least 1');
    this.#limit = limit;
    this.#summaryKey = summaryKey;
  }

  /** Keep `key` at no less than `valueMs` until at least `expiresAtMs`. */
  record(key: string, valueMs: number, expiresAtMs: number): void {
    const known = this.#entries.get(key);
    this.#entries.delete(key);
    this.#entries.set(key, {
      key,
      valueMs: Math.max(valueMs, known?.valueMs ?? valueMs),
      expiresAtMs: Math.max(expiresAtMs, known?.expiresAtMs ?? expiresAtMs),
    });
    while (this.#entries.size > this.#limit) this.#foldOldest();
  }

  /** The markers still alive at `nowMs`, oldest first; expired ones are forgotten. */
  live(nowMs: number): LiveMarker[] {
    const live: LiveMarker[] = [];
    for (const [key, marker] of this.#entries) {
      if (marker.expiresAtMs <= nowMs) this.#entries.delete(key);
      else live.push(marker);
    }
    return live;
  }

  get size(): number {
    return this.#entries.size;
  }

  #foldOldest(): void {
    for (const oldest of this.#entries.values()) {
      if (oldest.key === this.#summaryKey) continue;
      this.#entries.delete(oldest.key);
      const summary = this.#entries.get(this.#summaryKey);
      this.#entries.set(this.#summaryKey, {
        key: this.#summaryKey,
        valueMs: Math.max(oldest.valueMs, summary?.valueMs ?? 0),
        expiresAtMs: Math.max(oldest.expiresAtMs, summary?.expiresAtMs ?? 0),
      });
      return;
    }
  }
}
