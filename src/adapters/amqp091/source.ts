import net from 'node:net';
import type tls from 'node:tls';
import amqp, { type Channel, type ChannelModel, type ConsumeMessage } from 'amqplib';
import type { Config } from '../../config/load.ts';
import { readTlsFiles } from '../../config/tls-files.ts';
import { type BrokerHost, describeBroker } from '../../config/transport-url.ts';
import type { Logger } from '../../observability/logger.ts';
import type { Delivery, DeliveryHandler, Source } from '../../ports/source.ts';
import { backoffDelay, sleep } from '../../util/backoff.ts';
import { brokerHint, declareTopology, type TopologyOptions } from './topology.ts';

type State = 'idle' | 'connecting' | 'consuming' | 'stopping' | 'stopped';

/** One connected session: the channel that delivered a message is the only one that may settle it. */
interface Session {
  readonly connection: ChannelModel;
  readonly channel: Channel;
  consumerTag: string | null;
  /** Resolves, once, when the session can no longer deliver or settle (see #watch). */
  readonly ended: Promise<string>;
  dead: boolean;
  /** Mark the session dead, end it with a reason, and close the connection (requeueing unacked messages). */
  finish(why: string): Promise<void>;
}

/**
 * Consumes the pool queue over AMQP 0-9-1 (amqplib). One loop owns the life cycle: connect to the next
 * host of the transport URL, declare the topology, consume; when the session ends for any reason
 * (connection lost, heartbeat missed, channel closed by an error, consumer cancelled by the server because
 * the queue was deleted or failed over) the same loop starts over after a capped, jittered backoff.
 */
export class Amqp091Source implements Source {
  readonly name = 'amqp091';
  readonly #config: Config['amqp'];
  readonly #topology: TopologyOptions;
  readonly #log: Logger;
  readonly #tls: tls.ConnectionOptions;
  readonly #connectionName: string;
  readonly #inFlight = new Set<Promise<void>>();
  readonly #stopping = new AbortController();
  #state: State = 'idle';
  #session: Session | null = null;
  #hostIndex: number;
  #loop: Promise<void> = Promise.resolve();

  constructor(config: Config['amqp'], region: string, log: Logger) {
    this.#config = config;
    this.#log = log;
    this.#tls = readTlsFiles(config.tls);
    this.#connectionName = `keystone-cache-invalidator:${region}:${process.pid}`;
    // Like oslo, start on a random host so replicas spread over a cluster.
    this.#hostIndex = Math.floor(Math.random() * config.transport.hosts.length);
    this.#topology = {
      exchange: config.exchange,
      topics: config.topics,
      pool: config.pool,
      durable: config.durable,
      passive: config.passive,
      queueArguments: config.queueArguments,
      deadLetterExchange: config.deadLetterExchange,
      parkingQueue: config.parkingQueue ?? `${config.pool}.parked`,
      prefetch: config.prefetch,
    };
  }

  start(handler: DeliveryHandler): void {
    if (this.#state !== 'idle') throw new Error('the source was already started');
    this.#loop = this.#run(handler);
  }

  isConsuming(): boolean {
    return this.#state === 'consuming';
  }

  async stop(graceMs: number): Promise<void> {
    if (this.#state === 'stopped') return;
    this.#state = 'stopping';
    this.#stopping.abort();
    const session = this.#session;
    if (session?.consumerTag && !session.dead) {
      // Cancel first: no new deliveries, but the channel stays open to ack what is in flight.
      await session.channel.cancel(session.consumerTag).catch(() => {});
    }
    const grace = new AbortController();
    await Promise.race([Promise.allSettled([...this.#inFlight]), sleep(graceMs, grace.signal)]);
    grace.abort();
    if (this.#inFlight.size > 0) {
      this.#log.warn(
        { unsettled: this.#inFlight.size },
        'grace period over; unsettled messages will be redelivered',
      );
    }
    await session?.finish('stopping');
    await this.#loop;
    this.#state = 'stopped';
  }

  async #run(handler: DeliveryHandler): Promise<void> {
    for (let attempt = 0; !this.#stopping.signal.aborted; ) {
      const host = this.#nextHost();
      const broker = describeBroker(host, this.#config.transport.vhost, this.#config.transport.tls);
      const log = this.#log.child({ broker });
      this.#state = 'connecting';
      try {
        const session = await this.#open(host, handler);
        this.#state = 'consuming';
        attempt = 0;
        log.info({ pool: this.#topology.pool, exchange: this.#topology.exchange }, 'consuming');
        const why = await session.ended;
        if (this.#stopping.signal.aborted) break;
        log.warn({ why }, 'broker session ended; reconnecting');
      } catch (error) {
        if (this.#stopping.signal.aborted) break;
        const message = (error as Error).message;
        log.error({ error: message, hint: brokerHint(message) }, 'cannot consume from the broker');
      }
      this.#state = 'connecting';
      await sleep(backoffDelay(attempt++, this.#config.reconnect), this.#stopping.signal);
    }
  }

  #nextHost(): BrokerHost {
    const hosts = this.#config.transport.hosts;
    this.#hostIndex = (this.#hostIndex + 1) % hosts.length;
    return hosts[this.#hostIndex] as BrokerHost;
  }

  async #open(host: BrokerHost, handler: DeliveryHandler): Promise<Session> {
    const { transport } = this.#config;
    const connection = await amqp.connect(
      {
        protocol: transport.tls ? 'amqps' : 'amqp',
        hostname: host.hostname,
        port: host.port,
        username: host.username,
        password: host.password,
        vhost: transport.vhost,
        heartbeat: this.#config.heartbeatSeconds,
      },
      {
        ...(transport.tls ? this.#tlsFor(host) : {}),
        timeout: this.#config.connectTimeoutMs,
        clientProperties: { connection_name: this.#connectionName },
      },
    );
    try {
      const channel = await connection.createChannel();
      await declareTopology(channel, this.#topology);
      const ended = Promise.withResolvers<string>();
      // The session exists before basic.consume: with a backlog, the broker delivers right after
      // consume-ok, before the consume() promise resumes this function.
      const session: Session = {
        connection,
        channel,
        consumerTag: null,
        ended: ended.promise,
        dead: false,
        finish(why) {
          if (this.dead) return Promise.resolve();
          this.dead = true;
          ended.resolve(why);
          return connection.close().catch(() => {});
        },
      };
      const consumer = await channel.consume(
        this.#topology.pool,
        (message) => {
          // A null message is RabbitMQ's basic.cancel: the queue was deleted or its leader moved.
          if (message === null) void session.finish('the broker cancelled the consumer');
          else this.#dispatch(session, message, handler);
        },
        { noAck: false },
      );
      session.consumerTag = consumer.consumerTag;
      this.#watch(session);
      this.#session = session;
      return session;
    } catch (error) {
      await connection.close().catch(() => {});
      throw error;
    }
  }

  // Every way a session ends. 'error' is always followed by 'close'; both are handled so no error event
  // goes unlistened (amqplib would throw it). A dead session is closed so unacked messages are requeued.
  #watch(session: Session): void {
    const finish = (why: string) => void session.finish(why);
    session.connection.on('error', (e: Error) => finish(`connection error: ${e.message}`));
    session.connection.on('close', () => finish('connection closed'));
    session.channel.on('error', (e: Error) => finish(`channel error: ${e.message}`));
    session.channel.on('close', () => finish('channel closed'));
    session.connection.on('blocked', (reason: string) =>
      this.#log.warn({ reason }, 'broker blocked the connection'),
    );
  }

  #dispatch(session: Session, message: ConsumeMessage, handler: DeliveryHandler): void {
    const settle = (how: (ch: Channel) => void) => {
      // Never settle on a dead channel: delivery tags belong to it, and the broker redelivers anyway.
      if (!session.dead) how(session.channel);
    };
    const delivery: Delivery = {
      body: message.content,
      headers: message.properties.headers ?? {},
      redelivered: message.fields.redelivered,
      ack: () => settle((ch) => ch.ack(message)),
      park: () => settle((ch) => ch.nack(message, false, false)),
    };
    const work = handler(delivery).catch((error: unknown) => {
      this.#log.error({ error: (error as Error).message }, 'unexpected failure handling a delivery');
    });
    this.#inFlight.add(work);
    void work.finally(() => this.#inFlight.delete(work));
  }

  #tlsFor(host: BrokerHost): tls.ConnectionOptions {
    const servername = this.#tls.servername ?? (net.isIP(host.hostname) === 0 ? host.hostname : undefined);
    return { ...this.#tls, ...(servername === undefined ? {} : { servername }) };
  }
}
