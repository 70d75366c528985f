import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createPoolQueue, useBroker } from '../support/broker.ts';
import { runCli, writeConfig } from '../support/child-daemon.ts';
import { testConfigYaml } from '../support/daemon.ts';
import { get, SERVERS } from '../support/memcached-probe.ts';
import { osloV2Body } from '../support/oslo-wire.ts';
import { runName } from '../support/run-name.ts';
import { startProxy } from '../support/tcp-proxy.ts';
import { waitFor } from '../support/wait.ts';

const hex = () => randomBytes(16).toString('hex');

describe.each([
  { protocol: '0-9-1', url: 'rabbit://guest:guest@127.0.0.1:5672/' },
  { protocol: '1.0', url: 'amqp://guest:guest@127.0.0.1:5672/' },
])('SIGTERM with notifications in flight, over AMQP $protocol', ({ protocol, url }) => {
  const POOL = runName(`kci-test-shutdown-${protocol}`);
  const broker = useBroker(POOL);

  /** The daemon as a process, reaching both memcached servers through proxies that can go silent. */
  async function daemonBehindProxies(graceMs: number) {
    const proxies = await Promise.all(SERVERS.map((s) => startProxy(Number(s.split(':')[1]))));
    await createPoolQueue(broker(), POOL);
    const yaml = testConfigYaml(POOL, { url, servers: proxies.map((p) => `127.0.0.1:${p.port}`) }).replace(
      'shutdown: { graceMs: 2000 }',
      `shutdown: { graceMs: ${graceMs} }`,
    );
    const daemon = runCli(['run', '--config', writeConfig(yaml)]);
    await daemon.waitForLog(/"msg":"consuming"/);
    return { daemon, proxies };
  }

  it('stops taking deliveries at once, finishes what is in flight within the grace period, acks it and exits 0', async () => {
    const { daemon, proxies } = await daemonBehindProxies(10_000);
    try {
      for (const p of proxies) p.freeze();
      const users = [hex(), hex(), hex()];
      for (const user of users)
        await broker().publish(osloV2Body('identity.user.updated', { resource_info: user }));
      await daemon.waitForLog(/invalidation not written everywhere; retrying/);
      expect(await broker().depth(POOL)).toBe(0); // all three delivered, none acknowledged

      daemon.child.kill('SIGTERM');
      await daemon.waitForLog(/"msg":"shutting down"/);
      // The consumer is cancelled (AMQP 1.0: no credit is given back, and what arrives is released): a
      // notification published now waits on the queue for the next daemon.
      if (protocol === '0-9-1') {
        await waitFor('the consumer cancelled', async () =>
          (await broker().consumers(POOL)) === 0 ? true : undefined,
        );
      } else {
        await daemon.waitForLog(/"msg":"shutting down"/);
        await new Promise((r) => setTimeout(r, 200));
      }
      await broker().publish(osloV2Body('identity.user.updated', { resource_info: hex() }));
      for (const p of proxies) p.thaw();

      expect(await daemon.exited).toBe(0);
      for (const server of SERVERS)
        for (const user of users) expect(await get(server, `kci:v1:user:${user}`), server).not.toBeNull();
      // The three in flight were acknowledged; only the one published after SIGTERM is left.
      expect(await broker().depth(POOL)).toBe(1);
    } finally {
      for (const p of proxies) await p.close();
    }
  });

  it('gives up after the grace period: exits 0 and leaves the unwritten notifications to redelivery', async () => {
    await broker().deleteQueues(POOL);
    const { daemon, proxies } = await daemonBehindProxies(1_000);
    try {
      for (const p of proxies) p.freeze();
      await broker().publish(osloV2Body('identity.user.updated', { resource_info: hex() }));
      await daemon.waitForLog(/invalidation not written everywhere; retrying/);

      daemon.child.kill('SIGTERM');
      // memcached stays silent until after the exit: only the grace period can end the wait.
      expect(await daemon.exited).toBe(0);
      expect(daemon.output()).toContain('grace period over; unsettled messages will be redelivered');
      await waitFor('the message back on the queue', async () =>
        (await broker().depth(POOL)) === 1 ? true : undefined,
      );
    } finally {
      for (const p of proxies) await p.close();
    }
  });
});
