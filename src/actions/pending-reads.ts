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
      const batch: string[] = [];
      for (const key of this.#queue.keys()) {
        batch.push(key);
        if (batch.length >= this.#batchSize) break;
      }
      for (const key of batch) this.#queue.delete(key);
      try {
        await this.#read(batch);
      } catch (error) {
        this.#queue.clear();
        this.#onError(error);
      }
      // Keys read are all those up to the oldest still queued.
      const oldest = this.#queue.values().next();
      this.#release(oldest.done ? Number.POSITIVE_INFINITY : oldest.value - 1);
    }
    this.#reading = false;
    this.#release(Number.POSITIVE_INFINITY);
  }

  #release(upTo: number): void {
    const ready = this.#waiters.filter((w) => w.upTo <= upTo);
    this.#waiters = this.#waiters.filter((w) => w.upTo > upTo);
    for (const w of ready) w.resolve();
  }
}
