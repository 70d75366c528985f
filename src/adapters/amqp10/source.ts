import type { Delivery, Message } from 'rhea';
import type { Config } from '../../config/load.ts';
import { type BrokerHost, describeBroker } from '../../config/transport-url.ts';
import type { EnvelopeLimits } from '../../core/envelope.ts';
import type { Logger } from '../../observability/logger.ts';
import type { GapHandler, ItemHandler, SourceItem } from '../../ports/source.ts';
import { BrokerSource } from '../broker-loop.ts';
import { notificationItem } from '../notification-item.ts';
import { rawMessage } from './message-body.ts';
import { Amqp10Session } from './session.ts';
import { sourceAddress } from './source-address.ts';

const NAME = 'amqp10';

/**
 * Receives Keystone's notifications over AMQP 1.0 (rhea): from the pool queue on RabbitMQ (4 natively,
 * 3 with its plugin), or from a configured address on any other broker or router. Its life cycle is the
 * BrokerLoop's, as for AMQP 0-9-1. The daemon declares nothing over AMQP 1.0: the queue must exist
 * (`keystone-cache-invalidator declare` makes it, and fills the gap of what it did not hold before).
 * A settlement becomes accepted (applied), rejected (parked: RabbitMQ dead-letters it to the parking
 * queue where the pool has a dead-letter exchange) or released (retry). Stopping takes no new credit:
 * nothing new arrives, and what was already on its way is released.
 */
export class Amqp10Source extends BrokerSource<Amqp10Session> {
  readonly name = NAME;

  constructor(config: Config['amqp'], region: string, limits: EnvelopeLimits, log: Logger) {
    super(config, region, limits, log);
    const limited = this.droppingArguments();
    if (limited.length > 0) {
      log.warn(
        { queueArguments: limited },
        'the pool queue may drop messages, and over AMQP 1.0 drops go unnoticed: use protocol 0-9-1 with a deadLetterExchange to see them',
      );
    }
  }

  start(handler: ItemHandler, _onGap: GapHandler): void {
    const { transport, pool } = this.config;
    this.run({
      hosts: transport.hosts,
      reconnect: this.config.reconnect,
      log: this.log,
      describe: (host) => describeBroker(host, transport.vhost, transport.tls),
      open: (host, log, adopt) => this.#open(host, handler, log, adopt),
      consumingFields: { pool, protocol: 'AMQP 1.0' },
      hint: (message) => amqp10Hint(message, pool),
    });
  }

  async #open(
    host: BrokerHost,
    handler: ItemHandler,
    log: Logger,
    adopt: (session: Amqp10Session) => void,
  ): Promise<Amqp10Session> {
    const session = await Amqp10Session.open({
      host,
      tls: this.tls?.(host) ?? null,
      sasl: this.config.saslMechanism,
      vhost: this.config.transport.vhost,
      heartbeatSeconds: this.config.heartbeatSeconds,
      connectTimeoutMs: this.config.connectTimeoutMs,
      connectionName: this.connectionName,
    });
    adopt(session);
    try {
      const address = sourceAddress(this.config.sourceAddress, this.config.pool, session.peer);
      log.debug({ address }, 'attaching the receiver');
      await session.receive(address, this.config.prefetch, (message, delivery) =>
        this.#dispatch(session, message, delivery, handler),
      );
      return session;
    } catch (error) {
      await session.finish('set-up failed');
      throw error;
    }
  }

  #dispatch(session: Amqp10Session, message: Message, delivery: Delivery, handler: ItemHandler): void {
    session.inFlight.hand(
      handler,
      this.#item(message),
      (settlement) => session.settle(delivery, settlement),
      this.handlingFailed,
    );
  }

  #item(message: Message): SourceItem {
    const redelivered = (message.delivery_count ?? 0) > 0 || message.first_acquirer === false;
    const raw = rawMessage(message);
    if (raw !== null) return notificationItem(raw, this.limits, NAME, redelivered);
    return {
      id: null,
      kind: 'unparseable',
      source: NAME,
      origin: { redelivered },
      content: {
        decoded: false,
        reason: 'envelope',
        detail: 'the AMQP 1.0 body is neither a data section nor a string or binary value',
      },
    };
  }
}

/** A hint for the AMQP 1.0 errors operators meet when connecting and attaching. */
export function amqp10Hint(message: string, pool: string): string | undefined {
  if (/not-found|NOT_FOUND/i.test(message)) {
    return `the source address does not exist: create the pool queue "${pool}" with "keystone-cache-invalidator declare --config <file>" (it declares it as oslo's listener would, with its bindings), or set amqp.sourceAddress`;
  }
  if (/Unsupported AMQP version: 0-9-1/.test(message)) {
    return "the broker speaks only AMQP 0-9-1 there: enable RabbitMQ 3's rabbitmq_amqp1_0 plugin, or use rabbit:// (or amqp.protocol: 0-9-1)";
  }
  if (/unauthorized|sasl|authentication/i.test(message)) {
    return 'the broker refused the SASL login: check the user and password in amqp.url / amqp.urlFile, or amqp.saslMechanism';
  }
  return undefined;
}
