import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createPoolQueue, useBroker } from '../support/broker.ts';
import { startTestDaemon, testConfigYaml } from '../support/daemon.ts';
import { get } from '../support/memcached-probe.ts';
import { osloV2Body } from '../support/oslo-wire.ts';
import { runName } from '../support/run-name.ts';
import { freePort, startMemcached } from '../support/tls.ts';
import { waitFor } from '../support/wait.ts';

const POOL = runName('kci-test-memcached-faults');

describe('memcached faults', () => {
  const broker = useBroker(POOL);

  it('all servers down: not ready, nothing acknowledged; once they are back the held event is applied', async () => {
    const ports = [await freePort(), await freePort()];
    const servers = ports.map((p) => `127.0.0.1:${p}`);
    // The queue exists: no gap to fill first, so the daemon consumes while memcached is away.
    await createPoolQueue(broker(), POOL);
    const d = await startTestDaemon(testConfigYaml(POOL, { servers }), { waitReady: false });
    const started: Array<{ stop(): void }> = [];
    try {
      await waitFor('consuming', async () =>
        d.logLines.some((l) => l.includes('"msg":"consuming"')) ? true : undefined,
      );
      expect(await d.ready()).toBe(false);
      const user = randomBytes(16).toString('hex');
      await broker().publish(osloV2Body('identity.user.updated', { resource_info: user }));
      await waitFor('failed write attempts', async () =>
        (await d.metric('kci_memcached_write_failures_total')) >= 4 ? true : undefined,
      );
      expect(await d.metric('kci_notifications_total', 'outcome="applied"')).toBe(0);

      for (const port of ports) started.push(await startMemcached(['-m', '64'], port));
      await d.settled(1);
      // Acknowledged once one server has it; a server that came back later is given it at the next probe.
      for (const server of servers)
        await waitFor(
          `the marker on ${server}`,
          async () => (await get(server, `kci:v1:user:${user}`)) ?? undefined,
        );
      await waitFor('ready again', async () => ((await d.ready()) ? true : undefined));
      expect(await broker().depth(POOL)).toBe(0);
    } finally {
      await d.stop();
      for (const s of started) s.stop();
    }
  });
});
