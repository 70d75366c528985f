/**
 * Where notifications come from (AMQP 0-9-1 today; AMQP 1.0 and the OS-REVOKE poller later).
 * A source hands each message to the handler and settles it as the handler decides. A message the
 * handler never settles (shutdown, lost channel) is redelivered by the broker: that is the at-least-once path.
 */
export interface Delivery {
  readonly body: Uint8Array;
  /** Application headers (AMQP 0-9-1 `headers`); `compression` is read from here. */
  readonly headers: Readonly<Record<string, unknown>>;
  readonly redelivered: boolean;
  /** Done with it: every invalidation it implies is written. */
  ack(): void;
  /** It can never be applied: reject without requeue (to the dead-letter exchange when configured). */
  park(): void;
}

export type DeliveryHandler = (delivery: Delivery) => Promise<void>;

/**
 * Why notifications may have been lost before they reached the source: the pool queue did not exist and
 * had to be created (first start, a non-durable queue lost with a broker restart, a deleted queue), or
 * the broker dropped messages from it (a length limit, a message TTL, a delivery limit).
 */
export type GapReason =
  | 'queue-created'
  | 'dropped-maxlen'
  | 'dropped-expired'
  | 'dropped-delivery-limit'
  | 'dropped-other';

/**
 * Invalidates everything the gap may have hidden; resolves once that is written, rejects when `signal`
 * aborts first (the source is stopping).
 */
export type GapHandler = (reason: GapReason, signal: AbortSignal) => Promise<void>;

export interface Source {
  readonly name: string;
  /**
   * Begin consuming in the background; reconnects until stopped. A detected gap is reported to `onGap`,
   * and consuming waits until it has been filled.
   */
  start(handler: DeliveryHandler, onGap: GapHandler): void;
  /** True while a consumer is registered with the broker. */
  isConsuming(): boolean;
  /** Stop taking deliveries, let in-flight ones settle for at most `graceMs`, then disconnect. */
  stop(graceMs: number): Promise<void>;
}
