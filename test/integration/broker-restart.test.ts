import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { declarePool } from '../../src/adapters/amqp091/declare.ts';
import { parseConfig } from '../../src/config/load.ts';
import { connectBroker } from '../support/broker.ts';
import { startTestDaemon, testConfigYaml } from '../support/daemon.ts';
import { get, SERVERS } from '../support/memcached-probe.ts';
import { osloV2Body } from '../support/oslo-wire.ts';
import { usePrivateBroker } from '../support/private-broker.ts';
import { runName } from '../support/run-name.ts';
import { waitFor } from '../support/wait.ts';

// A stop closes every connection and loses every non-durable queue on the node: the test stops a node
// of its own, never the machine's shared broker.
describe('a whole broker stop and start', () => {
  const rabbit = usePrivateBroker();
  it.each([
    // oslo's default (amqp_durable_queues = False): the queue is lost, so what was published meanwhile
    // may be lost too: a gap, covered by a global invalidation.
    { durable: false, gaps: 2 },
    // Durable: the queue and its bindings survive; nothing was missed.
    { durable: true, gaps: 1 },
  ])(
    'durable=$durable: the daemon reconnects, re-declares, and applies what comes next',
    async ({ durable, gaps }) => {
      const pool = runName(`kci-test-broker-restart-${durable}`);
      const exchange = runName(`kci-test-broker-restart-${durable}`);
      const url = `rabbit://guest:guest@127.0.0.1:${rabbit().port}/`;
      const yaml = testConfigYaml(pool, { url, amqp: [`durable: ${durable}`, `exchange: ${exchange}`] });
      const d = await startTestDaemon(yaml);
      try {
        expect(await d.metric('kci_gaps_total', 'reason="queue-created"')).toBe(1);
        await rabbit().ctl('stop_app');
        expect(await d.ready()).toBe(false);
        await rabbit().ctl('start_app');
        await waitFor('consuming again', async () => ((await d.ready()) ? true : undefined), 60_000);
        expect(await d.metric('kci_gaps_total', 'reason="queue-created"')).toBe(gaps);
        expect(d.logLines.some((l) => l.includes('broker session ended; reconnecting'))).toBe(true);

        const broker = await connectBroker(rabbit().url);
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

  it('AMQP 1.0 on a durable pool queue: the daemon reconnects and applies what comes next', async () => {
    const pool = runName('kci-test-broker-restart-amqp10');
    const exchange = runName('kci-test-broker-restart-amqp10');
    const url = `amqp://guest:guest@127.0.0.1:${rabbit().port}/`;
    const yaml = testConfigYaml(pool, { url, amqp: ['durable: true', `exchange: ${exchange}`] });
    // The AMQP 1.0 source declares nothing: the queue is declared as `declare` does. A non-durable one
    // would be gone after the restart, and the daemon would wait for `declare` again.
    await declarePool(parseConfig(yaml, 'test').amqp, async () => {});
    const d = await startTestDaemon(yaml);
    try {
      // The broker closes the connection as it stops (RabbitMQ 3 lists no AMQP 1.0 connection for
      // rabbitmqctl close_connection).
      await rabbit().ctl('stop_app');
      expect(await d.ready()).toBe(false);
      await rabbit().ctl('start_app');
      await waitFor('consuming again', async () => ((await d.ready()) ? true : undefined), 60_000);
      expect(d.logLines.some((l) => l.includes('broker session ended; reconnecting'))).toBe(true);
      const broker = await connectBroker(rabbit().url);
      try {
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
      } finally {
        await broker.close();
      }
    } finally {
      await d.stop();
    }
  }, 120_000);
});
