import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { useBroker } from '../support/broker.ts';
import { startTestDaemon, testConfigYaml, useDaemon } from '../support/daemon.ts';
import { get, SERVERS } from '../support/memcached-probe.ts';
import { osloV2Body } from '../support/oslo-wire.ts';
import { closeConnections } from '../support/rabbitmqctl.ts';
import { runName } from '../support/run-name.ts';
import { startProxy } from '../support/tcp-proxy.ts';
import { waitFor } from '../support/wait.ts';

const POOL = runName('kci-test-recovery');

describe('the consumer after the broker cancels it', () => {
  const broker = useBroker(POOL);
  const d = useDaemon(testConfigYaml(POOL));

  it('re-declares the deleted pool queue, re-binds it and consumes again (basic.cancel)', async () => {
    // Deleting the queue makes RabbitMQ send basic.cancel to its consumer.
    await broker().channel.deleteQueue(POOL);
    await waitFor('the session to end', async () =>
      d().logLines.some((l) => l.includes('the broker cancelled the consumer')) ? true : undefined,
    );
    await waitFor('the daemon consuming again', async () => ((await d().ready()) ? true : undefined));
    const user = randomBytes(16).toString('hex');
    await broker().publish(osloV2Body('identity.user.deleted', { resource_info: user }));
    for (const server of SERVERS) {
      await waitFor(
        `the marker on ${server}`,
        async () => (await get(server, `kci:v1:user:${user}`)) ?? undefined,
      );
    }
    expect(d().logLines.filter((l) => l.includes('"msg":"consuming"'))).toHaveLength(2);
  });
});

describe('broker refusals and stops at awkward moments', () => {
  const EXCHANGE = runName('kci-test-mismatch');
  const broker = useBroker(runName('kci-test-mismatch-pool'), runName('kci-test-early-stop'));

  it('a declaration the broker refuses (406 durable mismatch) is logged with a hint and retried, not fatal', async () => {
    await broker().channel.deleteExchange(EXCHANGE);
    await broker().channel.assertExchange(EXCHANGE, 'topic', { durable: false });
    const d = await startTestDaemon(
      testConfigYaml(runName('kci-test-mismatch-pool'), { amqp: [`exchange: ${EXCHANGE}`, 'durable: true'] }),
      { waitReady: false },
    );
    try {
      await waitFor('two refused attempts', async () =>
        d.logLines.filter((l) => l.includes('PRECONDITION_FAILED')).length >= 2 ? true : undefined,
      );
      const refusal = JSON.parse(d.logLines.find((l) => l.includes('PRECONDITION_FAILED')) as string);
      expect(refusal.hint).toContain('amqp.durable must equal');
      expect(await d.ready()).toBe(false);
    } finally {
      await d.stop();
      await broker().channel.deleteExchange(EXCHANGE);
    }
  });

  it.each([0, 2, 5, 10, 20, 40])(
    'a stop %d ms after start, during set-up, completes and leaves no consumer',
    async (delayMs) => {
      const d = await startTestDaemon(testConfigYaml(runName('kci-test-early-stop')), { waitReady: false });
      await new Promise((r) => setTimeout(r, delayMs));
      await d.stop();
      expect(await broker().consumers(runName('kci-test-early-stop'))).toBe(0);
    },
  );
});

describe('failover across the hosts of transport_url', () => {
  const broker = useBroker(runName('kci-test-failover'));

  it('after the connection is lost, tries the next host, then comes back to the one that works', async () => {
    const proxy = await startProxy(5672);
    // Host 1 reaches RabbitMQ through a proxy the test can cut; host 2 refuses connections.
    const url = `rabbit://guest:guest@127.0.0.1:${proxy.port},guest:guest@127.0.0.1:1/`;
    const d = await startTestDaemon(testConfigYaml(runName('kci-test-failover'), { url }));
    try {
      const refusedBefore = d.logLines.filter((l) => l.includes('127.0.0.1:1/')).length;
      proxy.cutAll();
      // Rotation moves on from the lost host, so the refused host must be tried before consuming again.
      await waitFor('an attempt on the second host', async () =>
        d.logLines.filter((l) => l.includes('"broker":"amqp://127.0.0.1:1/%2F"')).length > refusedBefore
          ? true
          : undefined,
      );
      await waitFor('consuming again through the first host', async () =>
        d.logLines.filter((l) => l.includes('"msg":"consuming"')).length >= 2 ? true : undefined,
      );
      const user = randomBytes(16).toString('hex');
      await broker().publish(osloV2Body('identity.user.updated', { resource_info: user }));
      await waitFor('the marker', async () => (await get(SERVERS[0], `kci:v1:user:${user}`)) ?? undefined);
    } finally {
      await d.stop();
      await proxy.close();
    }
  });
});

describe('broker faults', () => {
  const broker = useBroker(runName('kci-test-broker-faults'));
  const d = useDaemon(testConfigYaml(runName('kci-test-broker-faults')));

  it('a connection closed by the broker (rabbitmqctl close_connection) is re-opened and consumes again', async () => {
    const consuming = () => d().logLines.filter((l) => l.includes('"msg":"consuming"')).length;
    const before = consuming();
    // The daemon names its connection keystone-cache-invalidator:<region>:<pid>; this process runs it.
    expect(await closeConnections(`keystone-cache-invalidator:test:${process.pid}`)).toBeGreaterThan(0);
    await waitFor('consuming again', async () => (consuming() > before ? true : undefined));
    const user = randomBytes(16).toString('hex');
    await broker().publish(osloV2Body('identity.user.updated', { resource_info: user }));
    for (const server of SERVERS) {
      await waitFor(
        `the marker on ${server}`,
        async () => (await get(server, `kci:v1:user:${user}`)) ?? undefined,
      );
    }
  });

  it('a silent partition ends the session on missed heartbeats; reconnecting is bounded and succeeds once it is over', async () => {
    const proxy = await startProxy(5672);
    const url = `rabbit://guest:guest@127.0.0.1:${proxy.port}/`;
    const yaml = testConfigYaml(runName('kci-test-partition'), {
      url,
      amqp: ['heartbeatSeconds: 1', 'connectTimeoutMs: 1000'],
    });
    const hb = await startTestDaemon(yaml);
    try {
      const consuming = () => hb.logLines.filter((l) => l.includes('"msg":"consuming"')).length;
      proxy.freeze();
      // Whichever side misses the heartbeats first (here RabbitMQ closes its end), the session ends, and
      // reconnecting stays bounded while the network is silent (no AMQP handshake within 1 s, retried).
      await waitFor('the session to end', async () =>
        hb.logLines.some((l) => l.includes('broker session ended')) ? true : undefined,
      );
      await waitFor('a bounded reconnect attempt during the partition', async () =>
        hb.logLines.some((l) => l.includes('no AMQP handshake within')) ? true : undefined,
      );
      const before = consuming();
      proxy.thaw();
      await waitFor('consuming again', async () => (consuming() > before ? true : undefined), 20_000);
      const user = randomBytes(16).toString('hex');
      await broker().publish(osloV2Body('identity.user.updated', { resource_info: user }));
      await waitFor('the marker', async () => (await get(SERVERS[0], `kci:v1:user:${user}`)) ?? undefined);
    } finally {
      await hb.stop();
      await proxy.close();
    }
  });
});
