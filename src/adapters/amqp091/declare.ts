import amqp from 'amqplib';
import type { Config } from '../../config/load.ts';
import { describeBroker } from '../../config/transport-url.ts';
import { errorMessage } from '../../util/errors.ts';
import { brokerTls } from '../broker-tls.ts';
import { connectionAddress, declareTopology, queueExists, topologyOptions } from './topology.ts';

export interface Declared {
  /** The broker host that took it, as logged (no credentials). */
  readonly broker: string;
  /** The pool queue did not exist before. */
  readonly created: boolean;
}

/**
 * What `keystone-cache-invalidator declare` does: the daemon's topology (exchange, pool queue with its
 * bindings, dead-letter exchange and parking queue), declared over AMQP 0-9-1 on the first host of the
 * transport URL that answers, exactly as the AMQP 0-9-1 source declares it on every connect. The AMQP
 * 1.0 source declares nothing, so a broker it reads needs this once.
 *
 * A pool queue that did not exist held nothing of what Keystone published before: `fillGap` runs first
 * (the daemon's gap: invalidate everything) and the queue is declared only once it resolves, so a fill
 * that fails leaves the queue missing, and the gap is seen again next time.
 */
export async function declarePool(config: Config['amqp'], fillGap: () => Promise<void>): Promise<Declared> {
  const { transport } = config;
  const tls = brokerTls(config);
  const problems: string[] = [];
  for (const host of transport.hosts) {
    const broker = describeBroker(host, transport.vhost, transport.tls);
    let connection: amqp.ChannelModel;
    try {
      connection = await amqp.connect(connectionAddress(transport, host), {
        ...tls?.(host),
        timeout: config.connectTimeoutMs,
      });
    } catch (error) {
      problems.push(`${broker}: ${errorMessage(error)}`);
      continue;
    }
    connection.on('error', () => {});
    try {
      const topology = topologyOptions(config);
      const created = !topology.passive && !(await queueExists(connection, topology.pool));
      if (created) await fillGap();
      await declareTopology(await connection.createChannel(), topology);
      return { broker, created };
    } finally {
      await connection.close().catch(() => {});
    }
  }
  throw new Error(`no broker host answered: ${problems.join('; ')}`);
}
