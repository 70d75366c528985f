/** Sends `basic.ack` for one delivery tag, or with `multiple` for every unsettled tag up to it. */
export type AckSender = (deliveryTag: number, multiple: boolean) => void;

type Settlement = 'pending' | 'acked';

/**
 * Acknowledges a channel's deliveries in as few frames as their order allows. While draining a backlog
 * each ack was a frame of its own, written by amqplib in a syscall of its own: the daemon's largest cost
 * after the memcached writes. Acks are collected for the rest of the tick; then every delivery at the
 * head of the channel's order that is settled goes with one `multiple` ack (it covers only tags the
 * broker still holds unsettled, so parked and individually acked ones are not touched), and acks behind
 * a delivery still in progress go one by one at once: a slow delivery must never hold back the others
 * (they count against the prefetch window until acked).
 */
export class AckBatcher {
  readonly #send: AckSender;
  readonly #schedule: (flush: () => void) => void;
  /**
   * Every delivery not yet settled at the broker, in delivery (tag) order: at most the prefetch window.
   * A `multiple` ack up to the last acked tag before the first pending one covers exactly the acked.
   */
  readonly #order = new Map<number, Settlement>();
  #scheduled = false;

  constructor(send: AckSender, schedule: (flush: () => void) => void = setImmediate) {
    this.#send = send;
    this.#schedule = schedule;
  }

  /** A delivery arrived; tags must be given in the order the channel delivered them. */
  delivered(deliveryTag: number): void {
    this.#order.set(deliveryTag, 'pending');
  }

  /** The delivery is done: acknowledge it with the tick's others. */
  ack(deliveryTag: number): void {
    if (!this.#order.has(deliveryTag)) {
      this.#send(deliveryTag, false);
      return;
    }
    this.#order.set(deliveryTag, 'acked');
    if (this.#scheduled) return;
    this.#scheduled = true;
    this.#schedule(() => this.flush());
  }

  /** The delivery was settled otherwise (rejected): nothing more is sent for it. */
  settled(deliveryTag: number): void {
    this.#order.delete(deliveryTag);
  }

  /** Send what is collected now (before the channel closes, say). */
  flush(): void {
    this.#scheduled = false;
    let upTo: number | null = null;
    for (const [tag, settlement] of this.#order) {
      if (settlement === 'pending') break;
      upTo = tag;
      this.#order.delete(tag);
    }
    if (upTo !== null) this.#send(upTo, true);
    for (const [tag, settlement] of this.#order) {
      if (settlement !== 'acked') continue;
      this.#send(tag, false);
      this.#order.delete(tag);
    }
  }

  /** Deliveries not yet settled at the broker. */
  get unsettled(): number {
    return this.#order.size;
  }
}
