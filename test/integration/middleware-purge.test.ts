import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBlackhole } from '../support/blackhole.ts';
import { createPoolQueue, useBroker } from '../support/broker.ts';
import { startTestDaemon, type TestDaemon, testConfigYaml, useDaemon } from '../support/daemon.ts';
import { keys as allKeys, flushAll, rawSet, SERVERS, setMany } from '../support/memcached-probe.ts';
import { cachedValue, type Strategy, tokenFor } from '../support/middleware-entries.ts';
import { osloV2Body } from '../support/oslo-wire.ts';
import { runName } from '../support/run-name.ts';
import { startMemcached } from '../support/tls.ts';
import { waitFor } from '../support/wait.ts';

const POOL = runName('kci-test-middleware-purge');
const hex = () => randomBytes(16).toString('hex');
/** The keys a server holds besides this daemon's own markers. */
const keys = async (server: string) => (await allKeys(server)).filter((k) => !k.startsWith('kci:'));

/** Seeds `perUser` cached validations for each user on every server, plus a key that is not a token. */
async function seed(
  strategy: Strategy,
  users: string[],
  perUser: number,
  servers: readonly string[] = SERVERS,
): Promise<Map<string, string[]>> {
  const byUser = new Map<string, string[]>();
  const items: Array<[string, string]> = [['not-a-token', 'x']];
  for (const user of users) {
    const project = hex();
    const userKeys = Array.from({ length: perUser }, () => `tokens/${hex()}${hex()}`);
    byUser.set(user, userKeys);
    for (const key of userKeys) items.push([key, cachedValue(strategy, tokenFor(user, project))]);
  }
  for (const server of servers) await setMany(server, items);
  return byUser;
}

describe('middlewarePurge: keystonemiddleware cache entries are deleted on every server', () => {
  const broker = useBroker(POOL);
  const d = useDaemon(
    testConfigYaml(POOL, { extra: 'middlewarePurge: { enabled: true, repeatAfterMs: 0 }\n' }),
  );

  async function publishAndSettle(eventType: string, payload: Record<string, unknown>): Promise<void> {
    const settled = await d().metric('kci_notifications_total');
    await broker().publish(osloV2Body(eventType, payload));
    await d().settled(settled + 1);
  }

  it.each(['None', 'MAC'] as const)('strategy %s: only the disabled user’s entries go', async (strategy) => {
    await flushAll();
    const [u, other] = [hex(), hex()];
    const byUser = await seed(strategy, [u, other], 3);
    await publishAndSettle('identity.user.updated', { resource_info: u });
    const remaining = [...(byUser.get(other) ?? []), 'not-a-token'].sort();
    for (const server of SERVERS) expect(await keys(server), server).toEqual(remaining);
  });

  it('strategy ENCRYPT: every tokens/* entry goes, since none can be read', async () => {
    await flushAll();
    await seed('ENCRYPT', [hex(), hex()], 3);
    await publishAndSettle('identity.user.updated', { resource_info: hex() });
    for (const server of SERVERS) expect(await keys(server), server).toEqual(['not-a-token']);
  });

  it('a global invalidation (group deleted) deletes every tokens/* entry and nothing else', async () => {
    await flushAll();
    await seed('None', [hex(), hex()], 2);
    await publishAndSettle('identity.group.deleted', { resource_info: hex() });
    for (const server of SERVERS) expect(await keys(server), server).toEqual(['not-a-token']);
  });

  it('a project role revoked for a group deletes the entries scoped to that project', async () => {
    await flushAll();
    const [u, project] = [hex(), hex()];
    const kept = await seed('None', [u], 2);
    const gone = `tokens/${hex()}`;
    for (const server of SERVERS)
      await setMany(server, [[gone, cachedValue('None', tokenFor(hex(), project))]]);
    const payload = {
      typeURI: 'x',
      outcome: 'success',
      group: 'g',
      project,
      role: 'r',
      inherited_to_projects: false,
    };
    await publishAndSettle('identity.role_assignment.deleted', payload);
    for (const server of SERVERS)
      expect(await keys(server)).toEqual([...(kept.get(u) ?? []), 'not-a-token'].sort());
  });

  it('is not thrown off by keys that are not UTF-8 or not ASCII', async () => {
    await flushAll();
    const u = hex();
    await seed('None', [u], 2);
    for (const server of SERVERS) {
      // Raw key bytes 0xff 0xfe, and a UTF-8 key under the token prefix.
      await rawSet(
        server,
        Buffer.concat([
          Buffer.from('set tokens/'),
          Buffer.from([0xff, 0xfe]),
          Buffer.from(' 0 300 1\r\nx\r\n'),
        ]),
      );
      await setMany(server, [['tokens/café', 'x']]);
    }
    await publishAndSettle('identity.user.updated', { resource_info: u });
    for (const server of SERVERS) {
      const left = await keys(server);
      expect(left.filter((k) => k.startsWith('tokens/') && /^[\x21-\x7e]+$/.test(k))).toEqual([]);
      expect(left).toContain('not-a-token');
    }
  });
});

describe('middlewarePurge with deleteAllOnGlobal: false', () => {
  const broker = useBroker(runName('kci-test-purge-no-global'));
  let d: TestDaemon;

  beforeAll(async () => {
    const extra = 'middlewarePurge: { enabled: true, repeatAfterMs: 0, deleteAllOnGlobal: false }\n';
    d = await startTestDaemon(testConfigYaml(runName('kci-test-purge-no-global'), { extra }));
  });

  afterAll(async () => {
    await d?.stop();
  });

  it('a global invalidation leaves the cached validations alone', async () => {
    await flushAll();
    await seed('MAC', [hex(), hex()], 2);
    const settled = await d.metric('kci_notifications_total');
    await broker().publish(osloV2Body('identity.group.deleted', { resource_info: hex() }));
    await d.settled(settled + 1);
    for (const server of SERVERS)
      expect((await keys(server)).filter((k) => k.startsWith('tokens/'))).toHaveLength(4);
  });
});

describe('stopping while a purge scan hangs', () => {
  const broker = useBroker(runName('kci-test-purge-stop'));

  it('ends the scan instead of waiting out scanTimeoutMs', async () => {
    // Both servers silent: a server known down is skipped (it replays later), so a scan only waits on a
    // silent server when no server answers.
    const holes = [await startBlackhole(), await startBlackhole()];
    await createPoolQueue(broker(), runName('kci-test-purge-stop'));
    // metadump pinned: no version probe first, so the scan itself is what waits on the silent server.
    const extra =
      'middlewarePurge: { enabled: true, repeatAfterMs: 0, scanTimeoutMs: 60000, metadump: hash }\n';
    const d = await startTestDaemon(
      testConfigYaml(runName('kci-test-purge-stop'), { servers: holes.map((h) => h.address), extra }),
      {
        waitReady: false,
      },
    );
    try {
      await waitFor('consuming', async () =>
        d.logLines.some((l) => l.includes('"msg":"consuming"')) ? true : undefined,
      );
      await broker().publish(osloV2Body('identity.user.updated', { resource_info: hex() }));
      // Each server holds the daemon's connection and, once the scan waits on it, the scan's own socket.
      await waitFor('the purge stuck on the silent servers', async () =>
        holes.every((h) => h.openConnections() >= 2) ? true : undefined,
      );
      await d.stop();
      // Nothing of the daemon may stay connected (and keep the process alive) after stop: not the
      // marker connection, and not the scan's own socket, which would otherwise wait out 60 s.
      await waitFor('every connection to the silent servers closed', async () =>
        holes.every((h) => h.openConnections() === 0) ? true : undefined,
      );
    } finally {
      for (const hole of holes) await hole.close();
    }
  });
});

describe('middlewarePurge at size: 10,000 cached tokens per server', () => {
  const broker = useBroker(runName('kci-test-purge-size'));

  it.each([
    ['from the index, kept current by the watch', true],
    ['by a scan of every key, without the index', false],
  ])('finds them %s, and deletes exactly the subject’s', async (_how, indexed) => {
    // Servers of the test's own: the shared ones may not have room for 2 x 25 MB besides other tests' data.
    const servers = await Promise.all([1, 2].map(() => startMemcached(['-m', '256'])));
    const addresses = servers.map((s) => s.address);
    const extra = `middlewarePurge: { enabled: true, repeatAfterMs: 0, index: { enabled: ${indexed} } }\n`;
    const [u, other] = [hex(), hex()];
    // Cached before the daemon starts: its index is built from a listing (a burst of 10,000 stores
    // while it watches would overflow memcached's log buffers: see the churn test).
    const byUser = await seed('MAC', [u, other], 5_000, addresses);
    // The pool queue exists: no gap, whose global invalidation would empty the cache at the start.
    await createPoolQueue(broker(), runName('kci-test-purge-size'));
    const d = await startTestDaemon(
      testConfigYaml(runName('kci-test-purge-size'), { servers: addresses, extra }),
    );
    try {
      if (indexed) {
        await waitFor('both indexes built', async () =>
          (await d.metric('kci_purge_index_trusted')) === 2 ? true : undefined,
        );
        expect(await d.metric('kci_purge_index_entries')).toBe(2 * 10_000);
      }
      const settled = await d.metric('kci_notifications_total');
      await broker().publish(osloV2Body('identity.user.deleted', { resource_info: u }));
      await d.settled(settled + 1);
      expect(await d.metric('kci_middleware_keys_scanned_total')).toBe(indexed ? 0 : 2 * 10_000);
      expect(await d.metric('kci_middleware_purges_total', `how="${indexed ? 'index' : 'scan'}"`)).toBe(2);
      for (const server of addresses) {
        const left = await keys(server);
        expect(left).toHaveLength(5_001);
        expect(left).toEqual([...(byUser.get(other) ?? []), 'not-a-token'].sort());
      }
    } finally {
      await d.stop();
      for (const s of servers) s.stop();
    }
  });
});
