import amqp, { type ChannelModel, type ConfirmChannel } from 'amqplib';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Publishes like oslo's notifier (persistent, to `<exchange>` with `notifications.info`, publisher
 * confirms) and rides out a broker or node going away: a batch the broker did not confirm is published
 * again on the next host that answers (duplicates are harmless, a loss is not). "Published" means
 * confirmed, so accepted by the broker (for a quorum queue: by a majority of its members).
 */
export class ConfirmedPublisher {
  readonly #urls: readonly string[];
  readonly #exchange: string;
  #host = 0;
  #channel: ConfirmChannel | null = null;
  #connection: ChannelModel | null = null;
  #closed = false;

  constructor(urls: readonly string[], exchange: string) {
    this.#urls = urls;
    this.#exchange = exchange;
  }

  /** Publishes every body, confirmed, in batches of `batch`. */
  async publish(bodies: readonly Buffer[], batch = 50): Promise<void> {
    for (let i = 0; i < bodies.length; ) {
      const part = bodies.slice(i, i + batch);
      try {
        const channel = await this.#connect();
        for (const body of part) {
          channel.publish(this.#exchange, 'notifications.info', body, {
            deliveryMode: 2,
            contentType: 'application/json',
          });
        }
        await channel.waitForConfirms();
        i += part.length;
      } catch (error) {
        if (this.#closed) throw error;
        await this.#drop();
        this.#host = (this.#host + 1) % this.#urls.length;
        await sleep(100);
      }
    }
  }

  /** Publish through host `index` of the list from the next batch on. */
  async use(index: number): Promise<void> {
    this.#host = index;
    await this.#drop();
  }

  async depth(queue: string): Promise<number> {
    return (await (await this.#connect()).checkQueue(queue)).messageCount;
  }

  /** Closes the connection; a publish still retrying gives up. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#drop();
  }

  async #drop(): Promise<void> {
    const connection = this.#connection;
    this.#channel = null;
    this.#connection = null;
    await connection?.close().catch(() => {});
  }

  async #connect(): Promise<ConfirmChannel> {
    if (this.#closed) throw new Error('the publisher was closed');
    if (this.#channel) return this.#channel;
    const connection = await amqp.connect(this.#urls[this.#host] as string);
    this.#connection = connection;
    connection.on('error', () => {});
    connection.on('close', () => {
      if (this.#connection === connection) this.#channel = null;
    });
    const channel = await connection.createConfirmChannel();
    channel.on('error', () => {});
    await channel.assertExchange(this.#exchange, 'topic', { durable: true });
    this.#channel = channel;
    return channel;
  }
}
