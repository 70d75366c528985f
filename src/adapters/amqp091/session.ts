import type { Channel, ChannelModel, ConsumeMessage, Message } from 'amqplib';
import type { Logger } from '../../observability/logger.ts';
import { InFlight } from '../in-flight.ts';
import { AckBatcher } from './ack-batcher.ts';
import { limitBodies } from './body-limit.ts';

/**
 * One connection and its consuming channel. It ends, once, on the first of: connection error or close
 * (network loss, missed heartbeats, broker shutdown or `close_connection`), channel error or close (a
 * refused declaration, an unknown delivery tag), a consumer cancelled by the broker (queue deleted or
 * failed over), or `finish()` from the owner. Listeners are attached the moment each object exists:
 * amqplib throws an 'error' event nobody listens to, which would take the daemon down.
 */
export class BrokerSession {
  readonly connection: ChannelModel;
  readonly #ended = Promise.withResolvers<string>();
  /** Resolves with the reason the session ended. */
  readonly ended: Promise<string> = this.#ended.promise;
  channel: Channel | null = null;
  readonly consumerTags: string[] = [];
  dead = false;
  /** Deliveries handed out and not yet settled. */
  readonly inFlight = new InFlight();
  /** Acks of this channel's deliveries, sent together (both consumers share the channel's tags). */
  readonly #acks = new AckBatcher((deliveryTag, multiple) =>
    this.settle((ch) => ch.ack({ fields: { deliveryTag } } as Message, multiple)),
  );

  readonly #maxBodyBytes: number;

  /** `maxBodyBytes`: a delivery with a larger body is handed over unread (see body-limit.ts). */
  constructor(connection: ChannelModel, log: Logger, maxBodyBytes: number) {
    this.connection = connection;
    this.#maxBodyBytes = maxBodyBytes;
    connection.on('error', (e: Error) => void this.finish(`connection error: ${e.message}`));
    connection.on('close', () => void this.finish('connection closed'));
    connection.on('blocked', (reason: string) => log.warn({ reason }, 'broker blocked the connection'));
    connection.on('unblocked', () => log.info('broker unblocked the connection'));
  }

  async openChannel(): Promise<Channel> {
    const channel = await this.connection.createChannel();
    limitBodies(channel, this.#maxBodyBytes);
    channel.on('error', (e: Error) => void this.finish(`channel error: ${e.message}`));
    channel.on('close', () => void this.finish('channel closed'));
    this.channel = channel;
    return channel;
  }

  /** Consume with manual acknowledgement; `null` from the broker is its basic.cancel. */
  async consume(queue: string, onMessage: (message: ConsumeMessage) => void): Promise<void> {
    const channel = this.channel ?? (await this.openChannel());
    const { consumerTag } = await channel.consume(
      queue,
      (message) => {
        if (message === null) {
          void this.finish('the broker cancelled the consumer');
          return;
        }
        this.#acks.delivered(message.fields.deliveryTag);
        onMessage(message);
      },
      { noAck: false },
    );
    this.consumerTags.push(consumerTag);
  }

  /** Settle on the channel that delivered, never on a dead one: tags belong to it, and the broker redelivers. */
  settle(how: (channel: Channel) => void): void {
    if (this.dead || this.channel === null) return;
    try {
      how(this.channel);
    } catch {
      // The channel closed under us and its 'close' has not reached finish() yet: amqplib refuses the
      // frame, and the broker redelivers what was not settled. Acks are sent from a timer (AckBatcher),
      // where a throw would take the daemon down.
    }
  }

  /** Done with a delivery: acknowledged with the others of this tick (see AckBatcher). */
  ack(message: ConsumeMessage): void {
    this.#acks.ack(message.fields.deliveryTag);
  }

  /** Reject without requeue (to the dead-letter exchange when configured), at once. */
  park(message: ConsumeMessage): void {
    this.settle((ch) => ch.nack(message, false, false));
    this.#acks.settled(message.fields.deliveryTag);
  }

  /** Give it back to the queue, to be delivered again (to this consumer or another), at once. */
  release(message: ConsumeMessage): void {
    this.settle((ch) => ch.nack(message, false, true));
    this.#acks.settled(message.fields.deliveryTag);
  }

  /**
   * Stop new deliveries while the channel stays open to acknowledge those in flight. Bounded: during a
   * partition the broker's cancel-ok may never come.
   */
  async cancel(timeoutMs: number): Promise<void> {
    const channel = this.channel;
    if (this.dead || channel === null) return;
    await withTimeout(Promise.all(this.consumerTags.map((tag) => channel.cancel(tag))), timeoutMs);
  }

  /**
   * End the session and close the connection; the broker requeues whatever is unacknowledged. amqplib's
   * close() settles only on the broker's close-ok, which never comes when the socket dies first: the
   * connection's 'close' event, or a timeout, ends the wait too.
   */
  finish(why: string): Promise<void> {
    if (this.dead) return Promise.resolve();
    // Acks still collected for this tick go before the channel's close.
    this.#acks.flush();
    this.dead = true;
    this.#ended.resolve(why);
    const closed = new Promise<void>((resolve) => this.connection.once('close', () => resolve()));
    // The channel is closed first: its close-ok means the broker has processed every ack sent before
    // it. RabbitMQ drops acks still queued in a channel when the whole connection closes under it
    // (the deliveries then come back as redelivered).
    const channel = this.channel;
    // A dead channel's close() may throw at once: run it inside the promise chain.
    const channelClosed = withTimeout(
      Promise.resolve().then(() => channel?.close()),
      CLOSE_TIMEOUT_MS,
    );
    const close = channelClosed.then(() => Promise.race([this.connection.close(), closed]));
    return withTimeout(Promise.race([close, closed]), CLOSE_TIMEOUT_MS);
  }
}

const CLOSE_TIMEOUT_MS = 5_000;

/** Waits for `work` (ignoring its failure) or `ms`, whichever comes first. */
function withTimeout(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  return Promise.race([work.then(noop, noop), timeout]).finally(() => clearTimeout(timer));
}

function noop(): void {}
