import { boundedId } from './bounded-id.ts';

/**
 * The last N message ids applied, oldest evicted first. oslo's listener keeps 16; a larger window also
 * absorbs the burst of redeliveries that follows a reconnect. Ids are held bounded (core/bounded-id.ts),
 * whichever source gave them: N ids must never cost N times what a publisher chose to send.
 */
export class RecentIds {
  readonly #ids = new Set<string>();
  /** The same ids in a ring, in the order they were added: the slot at `#next` holds the oldest. */
  readonly #ring: (string | undefined)[];
  #next = 0;

  /** A capacity of 0 remembers nothing (deduplication off). */
  constructor(capacity: number) {
    this.#ring = new Array<string | undefined>(capacity);
  }

  has(id: string): boolean {
    return this.#ids.has(boundedId(id));
  }

  /** An id already in the window keeps its place: it was applied twice, and is evicted as the first. */
  add(unbounded: string): void {
    if (this.#ring.length === 0) return;
    const id = boundedId(unbounded);
    if (this.#ids.has(id)) return;
    // A ring, not the Set's own order: evicting through a Set iterator was a drain's cost of its own.
    const oldest = this.#ring[this.#next];
    if (oldest !== undefined) this.#ids.delete(oldest);
    this.#ring[this.#next] = id;
    this.#next = (this.#next + 1) % this.#ring.length;
    this.#ids.add(id);
  }

  get size(): number {
    return this.#ids.size;
  }
}
