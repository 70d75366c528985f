import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { declarePool } from '../../src/adapters/amqp091/declare.ts';
import { parseConfig } from '../../src/config/load.ts';
import { sendAmqp10 } from '../support/amqp10.ts';
import { type Broker, useBroker } from '../support/broker.ts';
import { runCli, writeConfig } from '../support/child-daemon.ts';
import { startTestDaemon, type TestDaemon, testConfigYaml } from '../support/daemon.ts';
import { flushAll, get, SERVERS } from '../support/memcached-probe.ts';
import { osloV2Body } from '../support/oslo-wire.ts';
import { unacknowledged } from '../support/rabbitmqctl.ts';
import { runName } from '../support/run-name.ts';
import { startProxy } from '../support/tcp-proxy.ts';
import { waitFor } from '../support/wait.ts';

// The AMQP 1.0 source against the local RabbitMQ's AMQP 1.0 plugin (scripts/local-services.sh enables
// it). The notifications of the fixtures are covered in pipeline.test.ts over both protocols; here are
// what only AMQP 1.0 has: oslo's AMQP 1.0 message shape, a queue the daemon cannot create, and the
// broker faults on a connection rhea holds (a SIGKILLed daemon: crash-redelivery.test.ts). A broker stop and start: broker-restart.test.ts
// (RabbitMQ 3 lists no AMQP 1.0 connection for rabbitmqctl close_connection to close).
const AMQP10 = 'amqp://guest:guest@127.0.0.1:5672/';
const hex = () => randomBytes(16).toString('hex');
const userKey = (user: string) => `kci:v1:user:${user}`;

/** The pool declared as `keystone-cache-invalidator declare` does, for a daemon on `yaml`. */
async function declared(yaml: string): Promise<string> {
  await declarePool(parseConfig(yaml, 'test').amqp, async () => {});
  return yaml;
}

async function markerOnEveryServer(key: string): Promise<void> {
  for (const server of SERVERS) {
    await waitFor(`${key} on ${server}`, async () => (await get(server, key)) ?? undefined);
  }
}

/** A new user's notification, published over 0-9-1 as Keystone does, reaches every server. */
async function notificationApplies(broker: Broker): Promise<void> {
  const user = hex();
  await broker.publish(osloV2Body('identity.user.updated', { resource_info: user }));
  await markerOnEveryServer(userKey(user));
}

/** oslo's AMQP 1.0 driver: an AMQP value holding `{"request": <envelope>, "context": {…}}` as a string. */
function osloAmqp1Body(user: string): string {
  const envelope = JSON.parse(osloV2Body('identity.user.updated', { resource_info: user }).toString());
  return JSON.stringify({ request: envelope, context: { request_id: 'req-1', user_identity: '- - - - -' } });
}

describe('AMQP 1.0 bodies, as each kind of publisher sends them', () => {
  const POOL = runName('kci-test-amqp10-bodies');
  const broker = useBroker(POOL);
  let daemon: TestDaemon | undefined;
  const d = () => daemon as TestDaemon;
  beforeAll(async () => {
    daemon = await startTestDaemon(await declared(testConfigYaml(POOL, { url: AMQP10 })));
  });
  afterAll(() => daemon?.stop());
  const address = `/amq/queue/${POOL}`;

  it("oslo's AMQP 1.0 driver: a string value with the request wrapper yields its markers", async () => {
    const user = hex();
    await sendAmqp10(address, { body: osloAmqp1Body(user) });
    await markerOnEveryServer(userKey(user));
  });

  it('a binary value holding the oslo envelope yields its markers', async () => {
    const user = hex();
    await sendAmqp10(address, { body: osloV2Body('identity.user.updated', { resource_info: user }) });
    await markerOnEveryServer(userKey(user));
  });

  it('a body that can hold no notification (an AMQP map) is parked; the next message applies', async () => {
    const parked = await d().metric('kci_notifications_parked_total', 'source="amqp10"');
    await sendAmqp10(address, { body: { not: 'a notification' } });
    await expect.poll(() => d().metric('kci_notifications_parked_total', 'source="amqp10"')).toBe(parked + 1);
    await notificationApplies(broker());
    // The accept follows the write (decision 0007): it may still be on its way when the marker shows.
    await expect.poll(() => unacknowledged(POOL)).toBe(0);
  });
});

describe('a pool queue that does not exist yet', () => {
  const POOL = runName('kci-test-amqp10-missing');
  const broker = useBroker(POOL);

  it('is a clear error naming the queue and the declare command; declare fills the gap and makes it work', async () => {
    await flushAll();
    const config = writeConfig(testConfigYaml(POOL, { url: AMQP10 }));
    const d = await startTestDaemon(testConfigYaml(POOL, { url: AMQP10 }), { waitReady: false });
    try {
      await waitFor('the error', async () =>
        d.logLines.some((l) => l.includes('cannot consume from the broker')) ? true : undefined,
      );
      const error = d.logLines.find((l) => l.includes('cannot consume from the broker')) as string;
      expect(error).toContain(`no queue '${POOL}'`);
      expect(error).toContain(
        `create the pool queue \\"${POOL}\\" with \\"keystone-cache-invalidator declare`,
      );
      expect(await d.ready()).toBe(false);

      const declare = runCli(['declare', '--config', config]);
      expect(await declare.exited).toBe(0);
      expect(declare.output()).toContain(`the pool queue ${POOL} does not exist`);
      expect(declare.output()).toContain(`declared ${POOL} on amqp://127.0.0.1:5672/%2F`);
      // What Keystone published before the queue existed is lost: everything was invalidated first.
      for (const server of SERVERS) expect(await get(server, 'kci:v1:global')).not.toBeNull();

      await waitFor('the daemon consuming', async () => ((await d.ready()) ? true : undefined), 20_000);
      await notificationApplies(broker());

      const again = runCli(['declare', '--config', config]);
      expect(await again.exited).toBe(0);
      expect(again.output()).toContain(`declared ${POOL} (it existed)`);
    } finally {
      await d.stop();
    }
  }, 60_000);
});

describe('broker faults on an AMQP 1.0 connection', () => {
  const POOL = runName('kci-test-amqp10-faults');
  const broker = useBroker(POOL);

  it('after the connection is lost, tries the next host, then comes back to the one that works', async () => {
    const proxy = await startProxy(5672);
    const url = `amqp://guest:guest@127.0.0.1:${proxy.port},guest:guest@127.0.0.1:1/`;
    const d = await startTestDaemon(await declared(testConfigYaml(POOL, { url })));
    try {
      proxy.cutAll();
      await waitFor('an attempt on the second host', async () =>
        d.logLines.some((l) => l.includes('"broker":"amqp://127.0.0.1:1/%2F"')) ? true : undefined,
      );
      await waitFor('consuming again through the first host', async () =>
        d.logLines.filter((l) => l.includes('"msg":"consuming"')).length >= 2 ? true : undefined,
      );
      await notificationApplies(broker());
    } finally {
      await d.stop();
      await proxy.close();
    }
  });

  it('a silent partition ends the session on the idle time-out; reconnecting is bounded and succeeds after', async () => {
    const proxy = await startProxy(5672);
    const url = `amqp://guest:guest@127.0.0.1:${proxy.port}/`;
    const yaml = testConfigYaml(POOL, { url, amqp: ['heartbeatSeconds: 1', 'connectTimeoutMs: 1000'] });
    const d = await startTestDaemon(await declared(yaml));
    try {
      proxy.freeze();
      await waitFor('the session to end', async () =>
        d.logLines.some((l) => l.includes('broker session ended')) ? true : undefined,
      );
      await waitFor('a bounded reconnect attempt during the partition', async () =>
        d.logLines.some((l) => l.includes('no AMQP 1.0 open within 1000 ms')) ? true : undefined,
      );
      proxy.thaw();
      await waitFor('consuming again', async () => ((await d.ready()) ? true : undefined), 20_000);
      await notificationApplies(broker());
    } finally {
      await d.stop();
      await proxy.close();
    }
  }, 60_000);

  it('a refused login is a clear error that names what to check, and never the password', async () => {
    const secret = `kci-secret-${hex()}`;
    const url = `amqp://guest:${secret}@127.0.0.1:5672/`;
    const d = await startTestDaemon(testConfigYaml(POOL, { url }), { waitReady: false });
    try {
      await waitFor('the error', async () =>
        d.logLines.some((l) => l.includes('cannot consume from the broker')) ? true : undefined,
      );
      const error = d.logLines.find((l) => l.includes('cannot consume from the broker')) as string;
      expect(error).toContain('the broker refused the SASL login');
      expect(d.logLines.join('\n')).not.toContain(secret);
    } finally {
      await d.stop();
    }
  });
});
