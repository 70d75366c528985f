/**
 * Per server, the items it missed while it was unreachable, to replay when it is back. Items merge by
 * key. Past `limit` items on one server the backlog collapses to `collapse()` (a global item), which
 * covers everything it replaces.
 */
export class ServerBacklog<Item> {
  readonly #keyOf: (item: Item) => string;
  readonly #limit: number;
  readonly #collapse: () => readonly Item[];
  readonly #missed = new Map<string, Map<string, Item>>();

  constructor(keyOf: (item: Item) => string, limit: number, collapse: () => readonly Item[]) {
    this.#keyOf = keyOf;
    this.#limit = limit;
    this.#collapse = collapse;
  }

  add(server: string, items: Iterable<Item>): void {
    const missed = this.#missed.get(server) ?? new Map<string, Item>();
    this.#missed.set(server, missed);
    for (const item of items) missed.set(this.#keyOf(item), item);
    if (missed.size > this.#limit) {
      missed.clear();
      for (const item of this.#collapse()) missed.set(this.#keyOf(item), item);
    }
  }

  /**
   * Hand everything `server` missed to `apply`; it leaves the backlog only if `apply` succeeds (items
   * added meanwhile stay for the next replay).
   */
  async replay(server: string, apply: (items: readonly Item[]) => Promise<void>): Promise<void> {
    const missed = this.#missed.get(server);
    this.#missed.delete(server);
    if (missed === undefined || missed.size === 0) return;
    const items = [...missed.values()];
    try {
      await apply(items);
    } catch (error) {
      this.add(server, items);
      throw error;
    }
  }

  pending(server: string): number {
    return this.#missed.get(server)?.size ?? 0;
  }
}
