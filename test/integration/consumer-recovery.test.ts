import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBroker } from '../support/broker.ts';
import { startTestDaemon, type TestDaemon, testConfigYaml } from '../support/daemon.ts';
import { get, SERVERS } from '../support/memcached-probe.ts';
import { osloV2Body } from '../support/oslo-wire.ts';
import { waitFor } from '../support/wait.ts';

const POOL = 'kci-test-recovery';

describe('the consumer after the broker cancels it', () => {
  const broker = useBroker(POOL);
  let d: TestDaemon;

  beforeAll(async () => {
    d = await startTestDaemon(testConfigYaml(POOL));
  });

  afterAll(async () => {
    await d?.stop();
  });

  it('re-declares the deleted pool queue, re-binds it and consumes again (basic.cancel)', async () => {
    // Deleting the queue makes RabbitMQ send basic.cancel to its consumer.
    await broker().channel.deleteQueue(POOL);
    await waitFor('the session to end', async () =>
      d.logLines.some((l) => l.includes('the broker cancelled the consumer')) ? true : undefined,
    );
    await waitFor('the daemon consuming again', async () => ((await d.ready()) ? true : undefined));
    const user = randomBytes(16).toString('hex');
    await broker().publish(osloV2Body('identity.user.deleted', { resource_info: user }));
    for (const server of SERVERS) {
      await waitFor(
        `the marker on ${server}`,
        async () => (await get(server, `kci:v1:user:${user}`)) ?? undefined,
      );
    }
    expect(d.logLines.filter((l) => l.includes('"msg":"consuming"'))).toHaveLength(2);
  });
});
