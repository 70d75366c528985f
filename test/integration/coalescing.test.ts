import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { useBroker } from '../support/broker.ts';
import { startTestDaemon, testConfigYaml } from '../support/daemon.ts';
import { get, SERVERS, stats } from '../support/memcached-probe.ts';
import { osloV2Body } from '../support/oslo-wire.ts';
import { runName } from '../support/run-name.ts';

const POOL = runName('kci-test-coalescing');
const EVENTS = 300;

/** Storage commands a server has executed: add and set count in cmd_set, every cas in cas_*. */
async function storageCommands(server: string): Promise<number> {
  const s = await stats(server);
  return (s.cmd_set ?? 0) + (s.cas_hits ?? 0) + (s.cas_misses ?? 0) + (s.cas_badval ?? 0);
}

describe('coalescing against real servers', () => {
  const broker = useBroker(POOL);

  it(`a backlog of ${EVENTS} events for one user costs far fewer writes, and every message is acked`, async () => {
    // Create the pool queue and its binding, then let a backlog build up with no consumer.
    const yaml = testConfigYaml(POOL, { amqp: ['prefetch: 64'] });
    await (await startTestDaemon(yaml)).stop();
    const user = randomBytes(16).toString('hex');
    for (let i = 0; i < EVENTS; i++) {
      await broker().publish(osloV2Body('identity.user.updated', { resource_info: user }));
    }
    expect(await broker().depth(POOL)).toBe(EVENTS);

    const before = await Promise.all(SERVERS.map(storageCommands));
    const d = await startTestDaemon(yaml);
    try {
      await d.settled(EVENTS);
      const after = await Promise.all(SERVERS.map(storageCommands));
      for (const [i, server] of SERVERS.entries()) {
        const writes = (after[i] as number) - (before[i] as number);
        expect(writes, server).toBeGreaterThan(0);
        expect(writes, server).toBeLessThan(EVENTS / 3);
        expect(await get(server, `kci:v1:user:${user}`)).not.toBeNull();
      }
      expect(await d.metric('kci_notifications_total', 'outcome="applied"')).toBe(EVENTS);
    } finally {
      await d.stop();
    }
    expect(await broker().depth(POOL)).toBe(0);
  });
});
