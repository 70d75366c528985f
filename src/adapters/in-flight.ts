import type { ItemHandler, Settlement, SourceItem } from '../ports/source.ts';

/**
 * A broker session's deliveries handed to the pipeline and not yet settled, counted so that a stop can
 * wait for them. A settlement the handler gives at once (parked, a duplicate, nothing to invalidate) is
 * carried out at once; one it promises is carried out when it resolves. No promise is made per delivery
 * beyond the handler's own: in a drain the bookkeeping around each delivery was a cost of its own.
 */
export class InFlight {
  #count = 0;
  #idle: PromiseWithResolvers<void> | null = null;

  /** Deliveries (and other work, see `track`) not finished yet. */
  get size(): number {
    return this.#count;
  }

  /**
   * Hands `item` to `handler` and carries out its settlement with `settle`, now or once it is given.
   * A failure (the handler throws or rejects, or `settle` throws) leaves the delivery unsettled (the
   * broker gives it again once the session ends) and goes to `failed`: never out into the broker
   * library's callback, which would close the channel or the connection.
   */
  hand(
    handler: ItemHandler,
    item: SourceItem,
    settle: (settlement: Settlement) => void,
    failed: (error: unknown) => void,
  ): void {
    let answer: Settlement | Promise<Settlement>;
    try {
      answer = handler(item);
      if (!(answer instanceof Promise)) {
        settle(answer);
        return;
      }
    } catch (error) {
      failed(error);
      return;
    }
    this.#count++;
    answer.then(
      (settlement) => {
        this.#end();
        try {
          settle(settlement);
        } catch (error) {
          failed(error);
        }
      },
      (error: unknown) => {
        this.#end();
        failed(error);
      },
    );
  }

  /** Work of the session's own (a gap filled before a dead letter is acknowledged) that a stop waits for. */
  track(work: Promise<unknown>): void {
    this.#count++;
    const end = () => this.#end();
    work.then(end, end);
  }

  /** Resolves once nothing is in flight. */
  idle(): Promise<void> {
    if (this.#count === 0) return Promise.resolve();
    this.#idle ??= Promise.withResolvers<void>();
    return this.#idle.promise;
  }

  #end(): void {
    this.#count--;
    if (this.#count > 0 || this.#idle === null) return;
    this.#idle.resolve();
    this.#idle = null;
  }
}
