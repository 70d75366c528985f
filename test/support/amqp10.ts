import { createRequire } from 'node:module';
import type { Message } from 'rhea';

const rhea = createRequire(import.meta.url)('rhea') as typeof import('rhea');

/**
 * Sends one message over AMQP 1.0 (rhea) to `address` on the local RabbitMQ, as oslo's AMQP 1.0 driver
 * would (unsettled, waiting for the broker's disposition), and closes. Resolves once it is accepted.
 */
export async function sendAmqp10(address: string, message: Message, port = 5672): Promise<void> {
  const connection = rhea.create_container().connect({
    host: '127.0.0.1',
    port,
    username: 'guest',
    password: 'guest',
    hostname: 'vhost:/',
    reconnect: false,
  });
  try {
    await new Promise<void>((resolve, reject) => {
      const fail = (what: string) => (ctx: { error?: unknown; connection?: { error?: unknown } }) =>
        reject(new Error(`${what}: ${JSON.stringify(ctx.error ?? ctx.connection?.error ?? null)}`));
      connection.on('disconnected', fail('disconnected'));
      connection.on('connection_error', fail('connection error'));
      const sender = connection.open_sender({ target: { address } });
      sender.once('sendable', () => sender.send(message));
      sender.on('accepted', () => resolve());
      sender.on('rejected', fail('rejected'));
      sender.on('released', fail('released'));
    });
  } finally {
    connection.close();
  }
}
