import amqp, { type Channel, type ChannelModel } from 'amqplib';
import { afterAll, beforeAll } from 'vitest';
import type { Fixture } from './fixtures.ts';

export const BROKER_URL = 'amqp://guest:guest@127.0.0.1:5672/';

/**
 * Every pool queue of a test expires 10 minutes after its last consumer left: the safety net for a run
 * killed before its files ended (test/support/hygiene.ts deletes them when a file ends). The test
 * daemons declare their pools with the same arguments (testConfigYaml), as they must.
 */
export const TEST_QUEUE_ARGUMENTS = { 'x-expires': 600_000 } as const;

export interface Broker {
  readonly connection: ChannelModel;
  readonly channel: Channel;
  publish(body: Buffer, properties?: Fixture['properties'], exchange?: string): Promise<void>;
  publishFixture(f: Fixture): Promise<void>;
  /** Ready (not yet delivered) messages in a queue. */
  depth(queue: string): Promise<number>;
  /** Consumers registered on a queue; 0 when the queue does not exist. */
  consumers(queue: string): Promise<number>;
  deleteQueues(...queues: string[]): Promise<void>;
  close(): Promise<void>;
}

/** A publisher that behaves like oslo's: topic exchange `keystone`, routing key notifications.info. */
export async function connectBroker(url = BROKER_URL): Promise<Broker> {
  const connection = await amqp.connect(url);
  const channel = await connection.createConfirmChannel();
  await channel.assertExchange('keystone', 'topic', { durable: false });
  const publish = async (body: Buffer, p?: Fixture['properties'], exchange = 'keystone') => {
    channel.publish(exchange, 'notifications.info', body, {
      contentType: p?.content_type ?? 'application/json',
      contentEncoding: p?.content_encoding ?? 'utf-8',
      headers: p?.headers ?? {},
      deliveryMode: p?.delivery_mode ?? 2,
      priority: p?.priority ?? 0,
    });
    await channel.waitForConfirms();
  };
  return {
    connection,
    channel,
    publish,
    publishFixture: (f) => publish(f.body, f.properties),
    async depth(queue) {
      const side = await connection.createChannel();
      side.on('error', () => {});
      try {
        return (await side.checkQueue(queue)).messageCount;
      } finally {
        await side.close().catch(() => {});
      }
    },
    async consumers(queue) {
      // A missing queue closes the channel it is asked on: ask on a throwaway one.
      const side = await connection.createChannel();
      side.on('error', () => {});
      try {
        return (await side.checkQueue(queue)).consumerCount;
      } catch {
        return 0;
      } finally {
        await side.close().catch(() => {});
      }
    },
    async deleteQueues(...queues) {
      for (const q of queues) await channel.deleteQueue(q);
    },
    async close() {
      await connection.close();
    },
  };
}

/**
 * A broker connection for one describe block: opened before its tests with the named queues deleted
 * (each test file owns its queue names and starts clean), closed after them. What the tests declared
 * is deleted when the file ends (test/support/hygiene.ts).
 */
export function useBroker(...queues: string[]): () => Broker {
  let broker: Broker | undefined;
  beforeAll(async () => {
    broker = await connectBroker();
    await broker.deleteQueues(...queues);
  });
  afterAll(async () => {
    await broker?.close();
  });
  return () => {
    if (!broker) throw new Error('useBroker: the broker is only available inside tests');
    return broker;
  };
}

/**
 * Declares a pool queue the way the daemon does (non-durable, bound to notifications.info), so a daemon
 * started on it finds it existing: no gap, hence no global invalidation to write first.
 */
export async function createPoolQueue(broker: Broker, pool: string): Promise<void> {
  await broker.channel.assertQueue(pool, {
    durable: false,
    autoDelete: false,
    arguments: TEST_QUEUE_ARGUMENTS,
  });
  await broker.channel.bindQueue(pool, 'keystone', 'notifications.info');
}
