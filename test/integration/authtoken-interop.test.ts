import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AuthTokenHarness } from '../support/authtoken-harness.ts';
import { useBroker } from '../support/broker.ts';
import { testConfigYaml, useDaemon } from '../support/daemon.ts';
import { flushAll, keys, SERVERS } from '../support/memcached-probe.ts';
import type { Strategy } from '../support/middleware-entries.ts';
import { osloV2Body } from '../support/oslo-wire.ts';
import { runName } from '../support/run-name.ts';
import { waitFor } from '../support/wait.ts';

const POOL = runName('kci-test-authtoken');
// Enough tokens that both servers get some: all on one server happens once in ~500,000 runs.
const TOKENS_PER_USER = 10;
const hex = () => randomBytes(16).toString('hex');

async function cachedEntries(): Promise<number[]> {
  return Promise.all(SERVERS.map(async (s) => (await keys(s)).filter((k) => k.startsWith('tokens/')).length));
}

describe('stock keystonemiddleware auth_token sees the invalidation (middlewarePurge)', () => {
  const broker = useBroker(POOL);
  const d = useDaemon(
    testConfigYaml(POOL, { extra: 'middlewarePurge: { enabled: true, repeatAfterMs: 300 }\n' }),
  );

  it.each(['None', 'MAC', 'ENCRYPT'] as const)(
    'memcache_security_strategy %s',
    async (strategy: Strategy) => {
      await flushAll();
      const harness = await AuthTokenHarness.start(strategy, SERVERS);
      try {
        const [u, other] = [hex(), hex()];
        const uTokens = await Promise.all(
          Array.from({ length: TOKENS_PER_USER }, () => harness.issue(u, hex())),
        );
        const otherTokens = await Promise.all(
          Array.from({ length: TOKENS_PER_USER }, () => harness.issue(other, hex())),
        );
        for (const t of [...uTokens, ...otherTokens]) {
          expect(await harness.request(t)).toEqual({ status: 200, validations: 1 });
          expect(await harness.request(t)).toEqual({ status: 200, validations: 1 });
        }
        // auth_token shards its entries over both servers (python-memcached's crc32 buckets).
        const before = await cachedEntries();
        expect(before.reduce((a, b) => a + b)).toBe(2 * TOKENS_PER_USER);
        expect(before.every((n) => n > 0)).toBe(true);

        // The stale window: Keystone rejects U now, but auth_token still serves U from its cache.
        await harness.disable(u);
        expect(await harness.request(uTokens[0] as string)).toEqual({ status: 200, validations: 1 });

        const settled = await d().metric('kci_notifications_total');
        await broker().publish(osloV2Body('identity.user.updated', { resource_info: u }));
        const expectedLeft = strategy === 'ENCRYPT' ? 0 : TOKENS_PER_USER;
        await waitFor('the purge on every server', async () =>
          (await cachedEntries()).reduce((a, b) => a + b) === expectedLeft ? true : undefined,
        );
        await d().settled(settled + 1);

        // U is re-validated, and rejected as Keystone says, instead of being served from cache.
        for (const t of uTokens) expect(await harness.request(t)).toEqual({ status: 401, validations: 2 });
        // The other user is still served from cache, unless nothing could be read (ENCRYPT).
        const otherValidations = strategy === 'ENCRYPT' ? 2 : 1;
        for (const t of otherTokens) {
          expect(await harness.request(t)).toEqual({ status: 200, validations: otherValidations });
        }
      } finally {
        harness.stop();
      }
    },
  );
});
