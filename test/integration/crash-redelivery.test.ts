import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { startBlackhole } from '../support/blackhole.ts';
import { createPoolQueue, useBroker } from '../support/broker.ts';
import { runCli, writeConfig } from '../support/child-daemon.ts';
import { testConfigYaml } from '../support/daemon.ts';
import { flushAll, get, SERVERS } from '../support/memcached-probe.ts';
import { osloV2Body } from '../support/oslo-wire.ts';
import { runName } from '../support/run-name.ts';
import { waitFor } from '../support/wait.ts';

describe.each([
  { protocol: '0-9-1', url: 'rabbit://guest:guest@127.0.0.1:5672/' },
  { protocol: '1.0', url: 'amqp://guest:guest@127.0.0.1:5672/' },
])('a daemon killed between delivery and write, over AMQP $protocol', ({ protocol, url }) => {
  const POOL = runName(`kci-test-crash-${protocol}`);
  const broker = useBroker(POOL);

  it('loses nothing: the redelivered message is applied by the next daemon', async () => {
    await flushAll();
    const holes = [await startBlackhole(), await startBlackhole()];
    const user = randomBytes(16).toString('hex');
    const key = `kci:v1:user:${user}`;

    // First daemon: two servers that never answer, so the write cannot complete anywhere (one live server
    // would take it and the message would be acknowledged). The queue exists already: no gap to fill
    // (a global marker the silent servers could never take) before consuming.
    await createPoolQueue(broker(), POOL);
    const first = runCli([
      'run',
      '--config',
      writeConfig(testConfigYaml(POOL, { url, servers: holes.map((h) => h.address) })),
    ]);
    try {
      await first.waitForLog(/"msg":"consuming"/);
      await broker().publish(osloV2Body('identity.user.updated', { resource_info: user }));
      await first.waitForLog(/invalidation not written everywhere; retrying/);
    } finally {
      first.child.kill('SIGKILL');
    }
    expect(await first.exited).toBeNull();
    for (const hole of holes) await hole.close();

    await flushAll();
    await waitFor('the unacked message back on the queue', async () =>
      (await broker().depth(POOL)) === 1 ? true : undefined,
    );

    const second = runCli(['run', '--config', writeConfig(testConfigYaml(POOL, { url }))]);
    try {
      for (const server of SERVERS) {
        await waitFor(`${key} on ${server}`, async () => (await get(server, key)) ?? undefined);
      }
      expect(await broker().depth(POOL)).toBe(0);
    } catch (error) {
      console.error(second.output());
      throw error;
    } finally {
      second.child.kill('SIGTERM');
    }
    expect(await second.exited).toBe(0);
    expect(second.output()).toContain('"redelivered":true');
  });
});
