import amqp, { type ChannelModel, type ConsumeMessage } from 'amqplib';
import type { Config } from '../../config/load.ts';
import { type BrokerHost, describeBroker } from '../../config/transport-url.ts';
import type { EnvelopeLimits } from '../../core/envelope.ts';
import type { Logger } from '../../observability/logger.ts';
import type { GapHandler, ItemHandler, Settlement } from '../../ports/source.ts';
import { BrokerSource } from '../broker-loop.ts';
import { notificationItem, unreadItem } from '../notification-item.ts';
import { oversizedBody } from './body-limit.ts';
import { droppedFrom } from './dead-letters.ts';
import { BrokerSession } from './session.ts';
import {
  brokerHint,
  connectionAddress,
  declareTopology,
  queueExists,
  type TopologyOptions,
  topologyOptions,
} from './topology.ts';

/**
 * Consumes the pool queue over AMQP 0-9-1 (amqplib), its life cycle run by the BrokerLoop: connect to
 * the next host of the transport URL, declare the topology, consume, and start over when the session
 * ends. Each delivery is decoded by the pure core into an item; the handler's settlement becomes an ack
 * (applied), a reject without requeue (parked) or a reject with requeue (retry). Stopping cancels the
 * consumers: no new deliveries, but the channel stays open to ack what is in flight.
 */
export class Amqp091Source extends BrokerSource<BrokerSession> {
  readonly name = 'amqp091';
  readonly #topology: TopologyOptions;

  constructor(config: Config['amqp'], region: string, limits: EnvelopeLimits, log: Logger) {
    super(config, region, limits, log);
    const limited = this.droppingArguments();
    if (limited.length > 0 && config.deadLetterExchange === undefined) {
      log.warn(
        { queueArguments: limited },
        'the pool queue may drop messages but has no amqp.deadLetterExchange: drops would go unnoticed',
      );
    }
    this.#topology = topologyOptions(config);
  }

  start(handler: ItemHandler, onGap: GapHandler): void {
    const { transport } = this.config;
    this.run({
      hosts: transport.hosts,
      reconnect: this.config.reconnect,
      log: this.log,
      describe: (host) => describeBroker(host, transport.vhost, transport.tls),
      open: (host, log, adopt, stopping) => this.#open(host, handler, onGap, log, adopt, stopping),
      consumingFields: { pool: this.#topology.pool, exchange: this.#topology.exchange },
      hint: brokerHint,
    });
  }

  async #open(
    host: BrokerHost,
    handler: ItemHandler,
    onGap: GapHandler,
    log: Logger,
    adopt: (session: BrokerSession) => void,
    stopping: AbortSignal,
  ): Promise<BrokerSession> {
    const { transport } = this.config;
    const connecting = amqp.connect(
      { ...connectionAddress(transport, host), heartbeat: this.config.heartbeatSeconds },
      {
        ...this.tls?.(host),
        timeout: this.config.connectTimeoutMs,
        keepAlive: true,
        // amqplib leaves Nagle on unless asked: an ack, a heartbeat or a cancel then waits for the
        // previous segment's ACK (up to a delayed-ACK timeout, 40 ms on Linux). py-amqp, under oslo,
        // sets TCP_NODELAY too.
        noDelay: true,
        clientProperties: { connection_name: this.connectionName },
      },
    );
    const connection = await within(connecting, this.config.connectTimeoutMs);
    const session = new BrokerSession(connection, log, this.limits.maxBodyBytes);
    adopt(session);
    try {
      const existed = this.#topology.passive || (await queueExists(connection, this.#topology.pool));
      if (!existed) {
        // Whatever Keystone published while the queue did not exist never reached us. The gap is filled
        // BEFORE the queue is declared: if that is interrupted (stop, crash), the queue is still missing
        // and the next attempt, or the next daemon, sees the gap again. The marker is dated after the
        // fill began (plus the skew margin), and the queue exists moments later, so nothing in between
        // is missed.
        log.warn(
          { pool: this.#topology.pool },
          'the pool queue has to be created: notifications may have been missed',
        );
        await onGap({ reason: 'queue-created', detail: 'the pool queue did not exist' }, stopping);
      }
      await declareTopology(await session.openChannel(), this.#topology);
      // With a backlog the broker delivers right after consume-ok: dispatch is ready before consuming.
      await session.consume(this.#topology.pool, (message) => this.#dispatch(session, message, handler));
      const drops = this.#topology.dropsQueue;
      if (drops !== null && this.#watchesDrops()) {
        await session.consume(drops, (message) => this.#dispatchDrop(session, message, onGap, stopping));
      }
      return session;
    } catch (error) {
      await session.finish('set-up failed');
      throw error;
    }
  }

  #dispatch(session: BrokerSession, message: ConsumeMessage, handler: ItemHandler): void {
    const { redelivered } = message.fields;
    const oversized = oversizedBody(message);
    const raw = { body: message.content, headers: message.properties.headers ?? {} };
    const item =
      oversized === null
        ? notificationItem(raw, this.limits, this.name, redelivered)
        : unreadItem(oversized, this.name, redelivered);
    session.inFlight.hand(
      handler,
      item,
      (settlement) => settle(session, message, settlement),
      this.handlingFailed,
    );
  }

  #watchesDrops(): boolean {
    return this.#topology.deadLetterExchange !== undefined && !this.#topology.passive;
  }

  /**
   * A message the broker dead-lettered: one it dropped from the pool queue (length limit, TTL, delivery
   * limit) is a notification we never applied, and which others it stands for is unknown: a gap. Our
   * own parked messages come here too (the exchange is a fanout) and need nothing.
   */
  #dispatchDrop(
    session: BrokerSession,
    message: ConsumeMessage,
    onGap: GapHandler,
    stopping: AbortSignal,
  ): void {
    const dropped = droppedFrom(this.#topology.pool, message.properties.headers ?? {});
    const ack = () => session.ack(message);
    if (dropped === null) {
      ack();
      return;
    }
    this.log.warn(
      { pool: this.#topology.pool, reason: dropped },
      'the broker dropped a notification from the pool queue: invalidating everything',
    );
    // Acked only once the gap is filled; a stop first leaves it to be redelivered.
    const gap = { reason: 'messages-dropped', detail: dropped } as const;
    session.inFlight.track(onGap(gap, stopping).then(ack));
  }
}

/** The broker's side of a settlement, on the channel that delivered the message. */
function settle(session: BrokerSession, message: ConsumeMessage, settlement: Settlement): void {
  if (settlement.outcome === 'applied') session.ack(message);
  else if (settlement.outcome === 'parked') session.park(message);
  else session.release(message);
}

/**
 * The connection, or a rejection after `ms`: amqplib's socket timeout does not cover a broker (or a
 * partition) that accepts TCP and then says nothing, and the reconnect loop must never wait forever. A
 * connection that arrives after the deadline is closed.
 */
async function within(connecting: Promise<ChannelModel>, ms: number): Promise<ChannelModel> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no AMQP handshake within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([connecting, deadline]);
  } catch (error) {
    connecting.then(
      (late) => {
        // Nobody else listens on this connection: an 'error' (heartbeat, socket) must not go unhandled.
        late.on('error', () => {});
        late.close().catch(() => {});
      },
      () => {},
    );
    throw error;
  } finally {
    clearTimeout(timer);
  }
}
