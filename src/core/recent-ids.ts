import { boundedId } from './bounded-id.ts';

/**
 * The last N message ids applied, oldest evicted first. oslo's listener keeps 16; a larger window also
 * absorbs the burst of redeliveries that follows a reconnect. Ids are held bounded (core/bounded-id.ts),
 * whichever source gave them: N ids must never cost N times what a publisher chose to send.
 */
export class RecentIds {
  readonly #capacity: number;
  readonly #ids = new Set<string>();

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  has(id: string): boolean {
    return this.#ids.has(boundedId(id));
  }

  add(unbounded: string): void {
    const id = boundedId(unbounded);
    this.#ids.delete(id);
    this.#ids.add(id);
    if (this.#ids.size > this.#capacity) {
      const oldest = this.#ids.values().next();
      if (!oldest.done) this.#ids.delete(oldest.value);
    }
  }
}
