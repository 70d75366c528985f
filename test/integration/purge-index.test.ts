import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createPoolQueue, useBroker } from '../support/broker.ts';
import { Churn } from '../support/churn.ts';
import { startTestDaemon, type TestDaemon, testConfigYaml } from '../support/daemon.ts';
import { keys, setMany } from '../support/memcached-probe.ts';
import { type RestartableMemcached, restartableMemcached } from '../support/memcached-process.ts';
import { cachedValue, tokenFor } from '../support/middleware-entries.ts';
import { osloV2Body } from '../support/oslo-wire.ts';
import { runName } from '../support/run-name.ts';
import { waitFor } from '../support/wait.ts';

// The purge index against real memcached: a load storing and deleting cached validations for many users
// at a few thousand a second, a server restarted in the middle, and memcached itself dropping watch
// lines in a burst. Every entry of the invalidated user that existed when the event was published must
// be gone after the purge, whether the index answered or a scan stood in for it.
const POOL = runName('kci-test-purge-index');
const hex = () => randomBytes(16).toString('hex');

let servers: RestartableMemcached[] = [];
let daemon: TestDaemon | undefined;
let churn: Churn | undefined;
afterEach(async () => {
  churn?.stop();
  await daemon?.stop();
  for (const s of servers) await s.stop();
  [servers, daemon, churn] = [[], undefined, undefined];
});

async function setUp(broker: () => { channel: unknown }): Promise<TestDaemon> {
  servers = [await restartableMemcached(), await restartableMemcached()];
  await createPoolQueue(broker() as never, POOL);
  const extra = 'middlewarePurge: { enabled: true, repeatAfterMs: 300 }\n';
  daemon = await startTestDaemon(testConfigYaml(POOL, { servers: servers.map((s) => s.address), extra }));
  await waitFor('both indexes built', async () =>
    (await daemon?.metric('kci_purge_index_trusted')) === 2 ? true : undefined,
  );
  return daemon;
}

async function publishAndSettle(
  d: TestDaemon,
  broker: () => { publish(b: Buffer): Promise<void> },
  user: string,
): Promise<void> {
  const settled = await d.metric('kci_notifications_total');
  await broker().publish(osloV2Body('identity.user.updated', { resource_info: user }));
  await d.settled(settled + 1);
}

/** Of `entries` ([server index, key]), those the servers still hold. */
async function present(entries: ReadonlyArray<readonly [number, string]>): Promise<string[]> {
  const held = await Promise.all(servers.map(async (s) => new Set(await keys(s.address))));
  return entries.filter(([server, key]) => held[server]?.has(key)).map(([, key]) => key);
}

describe('the purge index under load, against real memcached', () => {
  const broker = useBroker(POOL);

  it('under churn of a few thousand stores and deletes a second, every entry of the user goes; the others stay', async () => {
    const d = await setUp(broker as never);
    const target = hex();
    const users = [target, ...Array.from({ length: 30 }, hex)];
    churn = new Churn(
      servers.map((s) => s.port),
      users,
      3_000,
    );
    await waitFor(
      'a few thousand operations',
      async () => ((churn?.ops ?? 0) > 3_000 ? true : undefined),
      20_000,
    );
    const existing = churn.entriesOf(target);
    expect(existing.length).toBeGreaterThan(10);
    await publishAndSettle(d, broker as never, target);
    expect(await present(existing)).toEqual([]);
    await churn.quiesce();
    // Other users' entries: none touched by the purge (only the load deleted some).
    const others = churn.entriesNotOf(target);
    expect((await present(others)).length).toBe(others.length);
    expect(await d.metric('kci_middleware_purges_total')).toBeGreaterThanOrEqual(2);
  }, 60_000);

  it('a server restarted in the middle: its index is rebuilt, and a purge then misses nothing on either', async () => {
    const d = await setUp(broker as never);
    const target = hex();
    churn = new Churn(
      servers.map((s) => s.port),
      [target, hex(), hex()],
      2_000,
    );
    await waitFor('load', async () => ((churn?.ops ?? 0) > 1_000 ? true : undefined), 20_000);
    await servers[1]?.restart();
    // Whichever saw it first (the watch ending, a read failing, the sentinel) distrusts its index.
    const restarted = `server="${servers[1]?.address}"`;
    await waitFor(
      'the restarted server’s index rebuilt',
      async () =>
        (await d.metric('kci_purge_index_distrusted_total', restarted)) >= 1 &&
        (await d.metric('kci_purge_index_trusted')) === 2
          ? true
          : undefined,
      20_000,
    );
    // Writes go to it again once a probe has found it up (until then it is owed them, and replayed).
    await waitFor(
      'the restarted server up',
      async () => ((await d.metric('kci_memcached_server_up')) === 2 ? true : undefined),
      20_000,
    );
    // The load goes on against the other server; the restarted one gets entries of its own.
    const fresh = Array.from({ length: 20 }, () => `tokens/${hex()}${hex()}`);
    await setMany(
      servers[1]?.address as string,
      fresh.map((k) => [k, cachedValue('MAC', tokenFor(target, 'p'))]),
      300,
    );
    const existing = [...churn.entriesOf(target), ...fresh.map((k) => [1, k] as const)];
    await publishAndSettle(d, broker as never, target);
    expect(await present(existing)).toEqual([]);
  }, 60_000);

  it('a burst memcached cannot log whole (it drops watch lines without a word): the purge still misses nothing', async () => {
    const d = await setUp(broker as never);
    const target = hex();
    // 10,000 stores at once: more than a worker thread's log buffer holds between two logger passes.
    const burst = Array.from({ length: 10_000 }, () => `tokens/${hex()}${hex()}`);
    const value = cachedValue('MAC', tokenFor(target, 'p'));
    await setMany(
      servers[0]?.address as string,
      burst.map((k) => [k, value]),
      300,
    );
    await publishAndSettle(d, broker as never, target);
    // An index that trusted the stream would leave most of them.
    expect((await present(burst.map((k) => [0, k] as const))).length).toBe(0);
    expect(await d.metric('kci_purge_index_distrusted_total', 'reason="dropped"')).toBeGreaterThanOrEqual(1);
  }, 60_000);
});
