import type { Channel, ChannelModel, Options } from 'amqplib';
import type { Config } from '../../config/load.ts';
import type { BrokerHost } from '../../config/transport-url.ts';

export interface TopologyOptions {
  readonly exchange: string;
  readonly topics: readonly string[];
  readonly pool: string;
  readonly durable: boolean;
  readonly passive: boolean;
  readonly queueArguments: Readonly<Record<string, string | number | boolean>>;
  readonly queueType: 'classic' | 'quorum';
  readonly quorum: Config['amqp']['quorum'];
  readonly deadLetterExchange: string | undefined;
  readonly parkingQueue: string;
  /**
   * Bound to the dead-letter exchange too: where the daemon sees what the broker dropped. Null over
   * AMQP 1.0, where nothing would read it (RabbitMQ 3 hands no dead-letter headers to AMQP 1.0).
   */
  readonly dropsQueue: string | null;
  readonly prefetch: number;
}

/** amqplib's address of one host of the transport URL (its socket options are the caller's). */
export function connectionAddress(transport: Config['amqp']['transport'], host: BrokerHost): Options.Connect {
  return {
    protocol: transport.tls ? 'amqps' : 'amqp',
    hostname: host.hostname,
    port: host.port,
    username: host.username,
    password: host.password,
    vhost: transport.vhost,
  };
}

/** The topology the configuration asks for (the `declare` command declares the same). */
export function topologyOptions(config: Config['amqp']): TopologyOptions {
  return {
    exchange: config.exchange,
    topics: config.topics,
    pool: config.pool,
    durable: config.durable,
    passive: config.passive,
    queueArguments: config.queueArguments,
    queueType: config.queueType,
    quorum: config.quorum,
    deadLetterExchange: config.deadLetterExchange,
    parkingQueue: config.parkingQueue ?? `${config.pool}.parked`,
    dropsQueue: config.protocol === '0-9-1' ? `${config.pool}.dropped` : null,
    prefetch: config.prefetch,
  };
}

/**
 * What oslo's own notification listener declares for a pool (see shared TOPOLOGY.md), plus an optional
 * dead-letter exchange feeding a parking queue (for operators) and a drops queue (for this daemon). Runs on every (re)connect: a non-durable `keystone` exchange vanishes with a broker
 * restart, and a queue may have been deleted under us. Each step is idempotent.
 */
export async function declareTopology(ch: Channel, t: TopologyOptions): Promise<void> {
  if (t.passive) {
    await ch.checkExchange(t.exchange);
    await ch.checkQueue(t.pool);
  } else {
    // Durability must equal the central side's amqp_durable_queues, or the broker answers 406.
    await ch.assertExchange(t.exchange, 'topic', { durable: t.durable, autoDelete: false });
    if (t.deadLetterExchange !== undefined) {
      await ch.assertExchange(t.deadLetterExchange, 'fanout', { durable: true, autoDelete: false });
      // Of the pool's type: a classic queue whose node is down cannot be declared (404), and a quorum
      // pool is chosen so that no node loss stops the daemon.
      const own = { durable: true, autoDelete: false, arguments: typeArguments(t.queueType) };
      await ch.assertQueue(t.parkingQueue, own);
      await ch.bindQueue(t.parkingQueue, t.deadLetterExchange, '');
      if (t.dropsQueue !== null) {
        await ch.assertQueue(t.dropsQueue, own);
        await ch.bindQueue(t.dropsQueue, t.deadLetterExchange, '');
      }
    }
    await ch.assertQueue(t.pool, {
      durable: t.durable,
      autoDelete: false,
      arguments: poolQueueArguments(t),
    });
    // Keystone publishes only at INFO, so oslo's listener binds `<topic>.info` and so do we.
    for (const topic of t.topics) await ch.bindQueue(t.pool, t.exchange, `${topic}.info`);
  }
  await ch.prefetch(t.prefetch, false);
}

/** The pool queue's arguments: oslo's for its queue type, the operator's, the dead-letter exchange. */
export function poolQueueArguments(t: TopologyOptions): Record<string, string | number | boolean> {
  return {
    ...typeArguments(t.queueType),
    ...(t.queueType === 'quorum' ? quorumArguments(t.quorum) : {}),
    ...t.queueArguments,
    ...(t.deadLetterExchange === undefined ? {} : { 'x-dead-letter-exchange': t.deadLetterExchange }),
  };
}

/** A classic queue is declared without `x-queue-type`, as oslo declares it (and as before 0.3). */
function typeArguments(type: TopologyOptions['queueType']): Record<string, string> {
  return type === 'quorum' ? { 'x-queue-type': 'quorum' } : {};
}

/** oslo's `_get_queue_arguments`: each rabbit_quorum_* option only when non-zero. */
function quorumArguments(q: TopologyOptions['quorum']): Record<string, number> {
  return {
    ...(q.deliveryLimit > 0 ? { 'x-delivery-limit': q.deliveryLimit } : {}),
    ...(q.maxMemoryLength > 0 ? { 'x-max-in-memory-length': q.maxMemoryLength } : {}),
    ...(q.maxMemoryBytes > 0 ? { 'x-max-in-memory-bytes': q.maxMemoryBytes } : {}),
  };
}

/**
 * Whether the pool queue exists, asked on a channel of its own: the broker answers a missing queue by
 * closing the channel it was asked on.
 */
export async function queueExists(connection: ChannelModel, queue: string): Promise<boolean> {
  const probe = await connection.createChannel();
  probe.on('error', () => {});
  try {
    await probe.checkQueue(queue);
    await probe.close().catch(() => {});
    return true;
  } catch (error) {
    if ((error as { code?: number }).code === 404) return false;
    throw error;
  }
}

/** A hint for the broker errors operators actually meet when connecting and declaring. */
export function brokerHint(message: string): string | undefined {
  if (message.includes('Login was refused')) {
    return 'the broker refused the user name or password of this host in amqp.url / amqp.urlFile';
  }
  if (message.includes('PRECONDITION_FAILED') && message.includes("'durable'")) {
    return 'amqp.durable must equal the existing exchange and queue (amqp_durable_queues on the central side)';
  }
  if (message.includes('PRECONDITION_FAILED') && message.includes("'x-queue-type'")) {
    return 'a queue (pool, parking or drops) exists as another type: amqp.queueType must match it; a type cannot change, so use new names or delete the queue';
  }
  if (message.includes('PRECONDITION_FAILED') && message.includes("'x-")) {
    return 'the pool queue exists with other arguments: align amqp.queueArguments/deadLetterExchange or delete the queue';
  }
  if (message.includes('NOT_FOUND')) {
    return 'with amqp.passive the exchange and the pool queue must already exist';
  }
  if (message.includes('ACCESS_REFUSED')) return 'the broker user lacks permission on this vhost or resource';
  return undefined;
}
