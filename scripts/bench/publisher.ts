import amqp, { type ChannelModel, type ConfirmChannel } from 'amqplib';
import { osloV2Body } from '../../test/support/oslo-wire.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ROUTING_KEY = 'notifications.info';
/**
 * The bench's queues expire 10 minutes after their last consumer left: a safety net for a run that is
 * killed before `close` deletes them. The daemon declares its pool with the same arguments.
 */
export const BENCH_QUEUE_ARGUMENTS = { 'x-expires': 600_000 } as const;

/**
 * Publishes Keystone-shaped `identity.user.updated` notifications in the exact oslo v2 wire format, with
 * confirms, as Keystone's notifier does. TCP_NODELAY as py-amqp sets it: with Nagle a publish waits for
 * the broker's ACK of the previous one, and the figures would count that as the daemon's.
 */
export class Publisher {
  readonly exchange: string;
  readonly #connection: ChannelModel;
  readonly channel: ConfirmChannel;
  /** Every queue `freshQueue` declared, deleted by `close`. */
  readonly #queues = new Set<string>();

  private constructor(exchange: string, connection: ChannelModel, channel: ConfirmChannel) {
    this.exchange = exchange;
    this.#connection = connection;
    this.channel = channel;
  }

  static async open(url: string, exchange: string): Promise<Publisher> {
    const connection = await amqp.connect(url, { noDelay: true });
    const channel = await connection.createConfirmChannel();
    await channel.assertExchange(exchange, 'topic', { durable: false });
    return new Publisher(exchange, connection, channel);
  }

  /** `name` is deleted by `close` too (a queue the daemons declare, for one). */
  owns(name: string): void {
    this.#queues.add(name);
  }

  /**
   * A fresh queue bound as a daemon's pool queue is (any earlier one and its messages deleted), with
   * the bench's arguments unless told others (an oslo listener declares its pool queue with none).
   */
  async freshQueue(name: string, queueArguments: Record<string, unknown> = BENCH_QUEUE_ARGUMENTS) {
    this.#queues.add(name);
    await this.channel.deleteQueue(name);
    await this.channel.assertQueue(name, {
      durable: false,
      autoDelete: false,
      arguments: queueArguments,
    });
    await this.channel.bindQueue(name, this.exchange, ROUTING_KEY);
  }

  async depth(queue: string): Promise<number> {
    return (await this.channel.checkQueue(queue)).messageCount;
  }

  publish(user: string, seq?: number): void {
    this.channel.publish(
      this.exchange,
      ROUTING_KEY,
      osloV2Body('identity.user.updated', { resource_info: user }),
      {
        contentType: 'application/json',
        ...(seq === undefined ? {} : { messageId: String(seq) }),
      },
    );
  }

  /** `count` notifications at `rate` per second; `before(seq)` runs just before each is published. */
  async atRate(count: number, rate: number, user: (seq: number) => string, before: (seq: number) => void) {
    const started = performance.now();
    for (let seq = 0; seq < count; seq++) {
      const wait = started + (seq * 1000) / rate - performance.now();
      if (wait > 1) await sleep(wait);
      before(seq);
      this.publish(user(seq), seq);
      if (seq % 500 === 499) await this.channel.waitForConfirms();
    }
    await this.channel.waitForConfirms();
  }

  /** `count` notifications as fast as confirms allow. */
  async all(count: number, user: (seq: number) => string): Promise<void> {
    for (let seq = 0; seq < count; seq++) {
      this.publish(user(seq));
      if (seq % 1000 === 999) await this.channel.waitForConfirms();
    }
    await this.channel.waitForConfirms();
  }

  /** Deletes the queues and the exchange this publisher declared, then disconnects. */
  async close(): Promise<void> {
    try {
      for (const queue of this.#queues) await this.channel.deleteQueue(queue);
      await this.channel.deleteExchange(this.exchange);
    } finally {
      await this.#connection.close();
    }
  }
}
