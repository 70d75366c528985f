import { randomBytes } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { createPoolQueue, useBroker } from '../support/broker.ts';
import { runCli, writeConfig } from '../support/child-daemon.ts';
import { testConfigYaml } from '../support/daemon.ts';
import { get, keys, rawSet, SERVERS } from '../support/memcached-probe.ts';
import { peakRssMb, testMemoryCgroup } from '../support/memory-limit.ts';
import { tokenFor } from '../support/middleware-entries.ts';
import { osloV2Body } from '../support/oslo-wire.ts';
import { runName } from '../support/run-name.ts';
import { waitFor } from '../support/wait.ts';

// Issue 19's findings 1 and 3 as an attacker would play them, against the built daemon inside the
// Helm chart's memory limit (a 256 MiB cgroup where the machine allows one): before the fixes the
// first took it past 465 MB (exit 137 under the limit) and the second to 734 MB.
const POOL = runName('kci-test-hostile-memory');
const hex = () => randomBytes(16).toString('hex');
const MILLION = 1_000_000;

/** 1.1 KB of zlib that inflates to a notification whose message_id is a million characters. */
function hugeIdNotification(seq: number, eventType: string, payload: Record<string, unknown>): Buffer {
  return deflateSync(osloV2Body(eventType, payload, `${seq}-${'a'.repeat(MILLION)}-a-a-a`), { level: 9 });
}

/** A keystonemiddleware entry flagged compressed (8): 16 KB stored, 15 MiB once inflated. */
function inflationBomb(key: string, user: string): Buffer {
  const token = { ...tokenFor(user, hex()), padding: 'x'.repeat(15 * 2 ** 20) };
  const value = deflateSync(Buffer.from(JSON.stringify({ token })), { level: 9 });
  return Buffer.concat([Buffer.from(`set ${key} 8 600 ${value.byteLength}\r\n`), value, Buffer.from('\r\n')]);
}

describe('hostile input inside the chart’s memory limit', () => {
  const broker = useBroker(POOL);

  it('300 million-character message ids, then inflation bombs in the cache: the daemon lives on', async () => {
    const cgroup = testMemoryCgroup(256);
    await createPoolQueue(broker(), POOL);
    const yaml = testConfigYaml(POOL, { extra: 'middlewarePurge: { enabled: true, repeatAfterMs: 0 }\n' });
    const daemon = runCli(['run', '--config', writeConfig(yaml)], {}, cgroup ?? undefined);
    const pid = daemon.child.pid as number;
    try {
      await daemon.waitForLog(/"msg":"consuming"/);
      const zlib = {
        content_type: 'application/json',
        content_encoding: 'utf-8',
        headers: { compression: 'zlib' },
        delivery_mode: 2,
        priority: 0,
      };
      const lastUser = hex();
      for (let seq = 0; seq < 300; seq++) {
        // Ignored events (failed logins) and applied ones, each with its own huge id.
        const body =
          seq % 2 === 0
            ? hugeIdNotification(seq, 'identity.authenticate', { outcome: 'failure' })
            : hugeIdNotification(seq, 'identity.user.updated', {
                resource_info: seq === 299 ? lastUser : hex(),
              });
        await broker().publish(body, zlib);
      }
      for (const server of SERVERS) {
        await waitFor(
          `the last marker on ${server}`,
          async () => (await get(server, `kci:v1:user:${lastUser}`)) ?? undefined,
          60_000,
        );
      }

      const victim = hex();
      const bombs = Array.from({ length: 5 }, () => `tokens/${hex()}${hex()}`);
      for (const server of SERVERS) for (const key of bombs) await rawSet(server, inflationBomb(key, victim));
      await broker().publish(osloV2Body('identity.user.updated', { resource_info: victim }));
      for (const server of SERVERS) {
        // Unreadable entries are deleted, as encrypted ones are: none of the bombs is left.
        await waitFor(
          `the bombs gone from ${server}`,
          async () => {
            const left = await keys(server);
            return bombs.some((k) => left.includes(k)) ? undefined : true;
          },
          60_000,
        );
      }

      expect(daemon.child.exitCode).toBeNull();
      expect(await broker().depth(POOL)).toBe(0);
      // Where no cgroup holds it, the bound is on the peak itself.
      expect(peakRssMb(pid)).toBeLessThan(250);
    } catch (error) {
      console.error(daemon.output().slice(-4000));
      throw error;
    } finally {
      daemon.child.kill('SIGTERM');
    }
    expect(await daemon.exited).toBe(0);
  }, 180_000);
});
