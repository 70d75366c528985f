import { OldestFirst } from '../core/oldest-first.ts';

/**
 * Keys a server stored whose values are not read yet, read in batches in the order they arrived: one
 * batch in flight at a time, so the reads of a listing of 100,000 keys hold bounded memory and leave
 * room on the server for everything else. `drained` tells when every key added so far has been read.
 */
export class PendingReads {
  readonly #read: (keys: string[]) => Promise<void>;
  readonly #batchSize: number;
  readonly #onError: (error: unknown) => void;
  /** key → its position in arrival order; a key added again moves to the end. */
  readonly #queue = new Map<string, number>();
  readonly #oldest = new OldestFirst(this.#queue);
  /**
   * The oldest key still queued when the last batch was read (taken, not deleted): the next batch
   * starts with it if it is still queued at the same position (its number unchanged).
   */
  #head: [string, number] | undefined;
  #added = 0;
  #reading = false;
  #waiters: Array<{ readonly upTo: number; readonly resolve: () => void }> = [];

  constructor(read: (keys: string[]) => Promise<void>, batchSize: number, onError: (error: unknown) => void) {
    this.#read = read;
    this.#batchSize = batchSize;
    this.#onError = onError;
  }

  add(key: string): void {
    this.#queue.delete(key);
    this.#queue.set(key, ++this.#added);
    if (!this.#reading) {
      this.#reading = true;
      setImmediate(() => void this.#pump());
    }
  }

  /** The key left the server: no need to read it. */
  drop(key: string): void {
    this.#queue.delete(key);
  }

  /** Resolves once every key added before this call has been read (or the queue was cleared). */
  drained(): Promise<void> {
    if (this.#queue.size === 0) return Promise.resolve();
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#waiters.push({ upTo: this.#added, resolve });
    return promise;
  }

  /** Forget every key (the index is rebuilt); waiters are released. */
  clear(): void {
    this.#queue.clear();
    this.#release(Number.POSITIVE_INFINITY);
  }

  get size(): number {
    return this.#queue.size;
  }

  async #pump(): Promise<void> {
    while (this.#queue.size > 0) {
      const batch = this.#nextBatch();
      try {
        await this.#read(batch);
      } catch (error) {
        this.#queue.clear();
        this.#onError(error);
      }
      // Keys read are all those up to the oldest still queued.
      this.#head = this.#oldest.take();
      this.#release(this.#head === undefined ? Number.POSITIVE_INFINITY : this.#head[1] - 1);
    }
    this.#reading = false;
    this.#release(Number.POSITIVE_INFINITY);
  }

  /** Up to `batchSize` keys, oldest first, taken off the queue. */
  #nextBatch(): string[] {
    const batch: string[] = [];
    const head = this.#head;
    this.#head = undefined;
    if (head !== undefined && this.#queue.get(head[0]) === head[1]) {
      batch.push(head[0]);
      this.#queue.delete(head[0]);
    }
    while (batch.length < this.#batchSize) {
      const next = this.#oldest.take();
      if (next === undefined) break;
      batch.push(next[0]);
      this.#queue.delete(next[0]);
    }
    return batch;
  }

  #release(upTo: number): void {
    const ready = this.#waiters.filter((w) => w.upTo <= upTo);
    this.#waiters = this.#waiters.filter((w) => w.upTo > upTo);
    for (const w of ready) w.resolve();
  }
}
