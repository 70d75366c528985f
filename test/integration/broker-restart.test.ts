import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { connectBroker } from '../support/broker.ts';
import { startTestDaemon, testConfigYaml } from '../support/daemon.ts';
import { get, SERVERS } from '../support/memcached-probe.ts';
import { osloV2Body } from '../support/oslo-wire.ts';
import { waitFor } from '../support/wait.ts';

const RABBITMQCTL = '/usr/sbin/rabbitmqctl';

/** Stops or starts the RabbitMQ application; a stop closes every connection and loses non-durable queues. */
async function rabbitmqctl(command: 'stop_app' | 'start_app'): Promise<void> {
  await promisify(execFile)(RABBITMQCTL, [command], { timeout: 60_000 });
}

describe('a whole broker stop and start', () => {
  it.each([
    // oslo's default (amqp_durable_queues = False): the queue is lost, so what was published meanwhile
    // may be lost too: a gap, covered by a global invalidation.
    { durable: false, gaps: 2 },
    // Durable: the queue and its bindings survive; nothing was missed.
    { durable: true, gaps: 1 },
  ])(
    'durable=$durable: the daemon reconnects, re-declares, and applies what comes next',
    async ({ durable, gaps }) => {
      const pool = `kci-test-broker-restart-${durable}`;
      const exchange = `kci-test-broker-restart-${durable}`;
      const setup = await connectBroker();
      await setup.deleteQueues(pool);
      await setup.channel.deleteExchange(exchange);
      await setup.close();
      const yaml = testConfigYaml(pool, { amqp: [`durable: ${durable}`, `exchange: ${exchange}`] });
      const d = await startTestDaemon(yaml);
      try {
        expect(await d.metric('kci_gaps_total', 'reason="queue-created"')).toBe(1);
        await rabbitmqctl('stop_app');
        expect(await d.ready()).toBe(false);
        await rabbitmqctl('start_app');
        await waitFor('consuming again', async () => ((await d.ready()) ? true : undefined), 60_000);
        expect(await d.metric('kci_gaps_total', 'reason="queue-created"')).toBe(gaps);
        expect(d.logLines.some((l) => l.includes('broker session ended; reconnecting'))).toBe(true);

        const broker = await connectBroker();
        try {
          await broker.channel.assertExchange(exchange, 'topic', { durable });
          const user = randomBytes(16).toString('hex');
          await broker.publish(
            osloV2Body('identity.user.updated', { resource_info: user }),
            undefined,
            exchange,
          );
          for (const server of SERVERS)
            await waitFor(
              `the marker on ${server}`,
              async () => (await get(server, `kci:v1:user:${user}`)) ?? undefined,
            );
          expect(await broker.depth(pool)).toBe(0);
          await broker.deleteQueues(pool);
          await broker.channel.deleteExchange(exchange);
        } finally {
          await broker.close();
        }
      } finally {
        await d.stop();
      }
    },
    120_000,
  );
});
