import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { declarePool } from '../../src/adapters/amqp091/declare.ts';
import { parseConfig } from '../../src/config/load.ts';
import { type Broker, connectBroker } from '../support/broker.ts';
import { startTestDaemon, type TestDaemon, testConfigYaml } from '../support/daemon.ts';
import { EXPECTED_TARGETS } from '../support/expected-targets.ts';
import { loadFixtures } from '../support/fixtures.ts';
import { flushAll, get, keys, NO_REASSERTION, SERVERS } from '../support/memcached-probe.ts';
import { osloV2Body } from '../support/oslo-wire.ts';
import { unacknowledged } from '../support/rabbitmqctl.ts';
import { runName } from '../support/run-name.ts';

// Every id in the fixtures is Keystone hex, so the protocol keeps it verbatim: kci:v1:<kind>:<id>.
const expectedKeys = (name: string) => (EXPECTED_TARGETS[name] ?? []).map((t) => `kci:v1:${t}`).sort();

// The same notifications, consumed over AMQP 0-9-1 (the daemon declares its queue) and over AMQP 1.0
// (RabbitMQ's plugin; the queue declared beforehand by what `declare` runs), yield the same markers.
describe.each([
  { protocol: '0-9-1', url: 'rabbit://guest:guest@127.0.0.1:5672/' },
  { protocol: '1.0', url: 'amqp://guest:guest@127.0.0.1:5672/' },
])('the pipeline over AMQP $protocol, against RabbitMQ and two memcached servers', ({ protocol, url }) => {
  const POOL = runName(`kci-test-pipeline-${protocol}`);
  const DLX = `${POOL}.dlx`;
  const PARKING = `${POOL}.parked`;
  let broker: Broker;
  let d: TestDaemon;

  beforeAll(async () => {
    broker = await connectBroker();
    const yaml = testConfigYaml(POOL, { url, amqp: [`deadLetterExchange: ${DLX}`], ...NO_REASSERTION });
    if (protocol === '1.0') await declarePool(parseConfig(yaml, 'test').amqp, async () => {});
    d = await startTestDaemon(yaml);
    expect(d.logLines.join('\n')).toContain(`"component":"${protocol === '1.0' ? 'amqp10' : 'amqp091'}"`);
  });

  afterAll(async () => {
    await d?.stop();
    await broker?.close();
  });

  it.each(loadFixtures().map((f) => [f.name, f] as const))(
    '%s yields exactly its markers on every server',
    async (name, f) => {
      await flushAll();
      const before = await d.metric('kci_notifications_total');
      const publishedAt = Date.now();
      await broker.publishFixture(f);
      await d.settled(before + 1);
      for (const server of SERVERS) {
        expect(await keys(server), server).toEqual(expectedKeys(name));
        for (const key of expectedKeys(name)) {
          const value = Number(await get(server, key));
          // The writer's clock at apply time plus the 2 s skew margin.
          expect(value).toBeGreaterThanOrEqual(publishedAt + 2000);
          expect(value).toBeLessThanOrEqual(Date.now() + 2000);
        }
      }
    },
  );

  it('acknowledged every message, noise included: nothing is left on the queue', async () => {
    const markersBefore = await Promise.all(SERVERS.map(markerValues));
    const noise = [
      'identity.authenticate',
      'identity.user.created',
      'identity.project.created',
      'identity.region.deleted',
    ];
    const before = await d.metric('kci_notifications_total', 'outcome="ignored"');
    for (const eventType of noise) await broker.publish(osloV2Body(eventType, { resource_info: 'abc' }));
    await expect
      .poll(() => d.metric('kci_notifications_total', 'outcome="ignored"'))
      .toBe(before + noise.length);
    expect(await Promise.all(SERVERS.map(markerValues))).toEqual(markersBefore);
    expect(await broker.depth(POOL)).toBe(0);
  });

  it('parks a poison body and still applies the next good message', async () => {
    await flushAll();
    const good = osloV2Body('identity.user.deleted', { resource_info: 'f5a5290df8fe54da965570d36a332dca' });
    const before = await d.metric('kci_notifications_total');
    await broker.publish(Buffer.from('{"oslo.version": "2.0", "oslo.message": "{not json'));
    await broker.publish(Buffer.from([0xff, 0xfe, 0x00]));
    await broker.publish(good);
    await d.settled(before + 3);
    expect(await d.metric('kci_notifications_parked_total', 'reason="json"')).toBe(1);
    expect(await d.metric('kci_notifications_parked_total', 'reason="encoding"')).toBe(1);
    await expect.poll(() => broker.depth(PARKING)).toBe(2);
    for (const server of SERVERS) {
      expect(await keys(server)).toEqual(['kci:v1:user:f5a5290df8fe54da965570d36a332dca']);
    }
    // The parked message keeps its bytes, for an operator to inspect.
    const parked = await broker.channel.get(PARKING, { noAck: true });
    expect(parked ? parked.content.toString() : null).toContain('{not json');
  });

  it('acks a message that comes again after it was applied without writing again (dedupe on message_id)', async () => {
    const key = 'kci:v1:user:76caa20afc7b5fbdbdede8a883b4b48a';
    const body = osloV2Body('identity.user.updated', { resource_info: '76caa20afc7b5fbdbdede8a883b4b48a' });
    const applied = await d.metric('kci_notifications_total', 'outcome="applied"');
    const duplicates = await d.metric('kci_notifications_total', 'outcome="duplicate"');
    await broker.publish(body);
    await expect.poll(() => d.metric('kci_notifications_total', 'outcome="applied"')).toBe(applied + 1);
    // Wipe the marker: only a second write could bring it back.
    await flushAll();
    await broker.publish(body);
    await expect.poll(() => d.metric('kci_notifications_total', 'outcome="duplicate"')).toBe(duplicates + 1);
    for (const server of SERVERS) expect(await get(server, key)).toBeNull();
    expect(await d.metric('kci_notifications_total', 'outcome="applied"')).toBe(applied + 1);
  });

  it('leaves no delivery unsettled, and nothing on the queue when it stops', async () => {
    expect(await unacknowledged(POOL)).toBe(0);
    await d.stop();
    expect(await broker.depth(POOL)).toBe(0);
  });
});

/** Every marker on a server with its value. */
async function markerValues(server: string): Promise<Record<string, string | null>> {
  const found = await keys(server);
  return Object.fromEntries(await Promise.all(found.map(async (k) => [k, await get(server, k)] as const)));
}
