import { Counter, type CounterConfiguration } from 'prom-client';

/**
 * A prom-client counter with a path for per-item counting: `count` adds to a plain number per label
 * combination, and the sums are added to the counter when it is collected (every scrape, and `get()`).
 * prom-client validates and hashes the labels of every `inc`, allocating as it goes: at a drain's tens
 * of thousands of items a second, four counts per item were a cost of their own, in CPU and in garbage.
 * Label values must come from bounded sets, as for any counter: a cell is kept per combination.
 */
export class TalliedCounter<L extends string> extends Counter<L> {
  readonly #names: readonly L[];
  /** First label's value → second label's value (or '') → the count not yet added. */
  readonly #cells = new Map<string, Map<string, number>>();

  constructor(config: CounterConfiguration<L>) {
    const names = config.labelNames ?? [];
    if (names.length < 1 || names.length > 2) {
      throw new RangeError('a TalliedCounter has one or two labels');
    }
    // Its own collect folds the counts; exemplars change what inc() takes.
    if (config.collect !== undefined || config.enableExemplars === true) {
      throw new RangeError('a TalliedCounter takes no collect function and no exemplars');
    }
    super({ ...config, collect: foldTallies });
    this.#names = names;
  }

  /** Zero, counts not yet folded included (prom-client's constructor calls it too, before the cells exist). */
  override reset(): void {
    if (#cells in this) this.#cells.clear();
    super.reset();
  }

  /** The series goes with the counts not yet folded into it. */
  override remove(...values: string[]): void;
  override remove(labels: Partial<Record<L, string | number>>): void;
  override remove(...args: unknown[]): void {
    this.fold();
    (super.remove as (...a: unknown[]) => void).apply(this, args);
  }

  /** One more for these label values, in `labelNames` order (the second is omitted with one label). */
  count(first: string, second?: string): void {
    this.add(1, first, second);
  }

  /** `n` more for these label values, as `count`. */
  add(n: number, first: string, second = ''): void {
    let counts = this.#cells.get(first);
    if (counts === undefined) {
      counts = new Map();
      this.#cells.set(first, counts);
    }
    counts.set(second, (counts.get(second) ?? 0) + n);
  }

  /** Adds what was counted since the last fold to the counter itself. */
  fold(): void {
    const [firstName, secondName] = this.#names as [L, L | undefined];
    for (const [first, counts] of this.#cells) {
      for (const [second, n] of counts) {
        if (n === 0) continue;
        counts.set(second, 0);
        const labels = { [firstName]: first } as Partial<Record<L, string>>;
        if (secondName !== undefined) labels[secondName] = second;
        this.inc(labels, n);
      }
    }
  }
}

// prom-client calls `collect` with the counter as `this`.
function foldTallies(this: Counter<string>): void {
  (this as unknown as TalliedCounter<string>).fold();
}
