import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { IdentityEvent } from '../../src/core/events.ts';
import { regionKey, regionsFor } from '../../src/core/keystone-regions.ts';
import { createPoolQueue, useBroker } from '../support/broker.ts';
import { startTestDaemon, type TestDaemon, testConfigYaml } from '../support/daemon.ts';
import { command, get, keys, set } from '../support/memcached-probe.ts';
import { restartableMemcached } from '../support/memcached-process.ts';
import { cachedValue, tokenFor } from '../support/middleware-entries.ts';
import { osloV2Body } from '../support/oslo-wire.ts';
import { runName } from '../support/run-name.ts';
import { startProxy } from '../support/tcp-proxy.ts';
import { waitFor } from '../support/wait.ts';

const POOL = runName('kci-test-server-recovery');
// Quick probes: a server that is back is found (and given what it missed) within a fraction of a second.
const RECOVERY = 'markers: { reassertIntervalSeconds: 0 }\n';
const PROBES = 'probeIntervalMs: 200';

const hex = () => randomBytes(16).toString('hex');
const userKey = (user: string) => `kci:v1:user:${user}`;

async function publishUsers(broker: ReturnType<ReturnType<typeof useBroker>>, count: number) {
  const users = Array.from({ length: count }, hex);
  for (const user of users)
    await broker.publish(osloV2Body('identity.user.updated', { resource_info: user }));
  return users;
}

async function everyMarkerOn(server: string, users: readonly string[]): Promise<true | undefined> {
  for (const user of users) if ((await get(server, userKey(user))) === null) return undefined;
  return true;
}

describe('memcached server recovery', () => {
  const broker = useBroker(POOL);

  async function daemonOn(servers: readonly string[], extra = RECOVERY): Promise<TestDaemon> {
    await createPoolQueue(broker(), POOL);
    const yaml = testConfigYaml(POOL, { servers, extra }).replace(
      '  requestTimeoutMs: 300\n',
      `  requestTimeoutMs: 300\n  ${PROBES}\n`,
    );
    return startTestDaemon(yaml, { waitReady: false });
  }

  it('one server down: the other gets every marker, every message is acknowledged, and the server gets them when it is back', async () => {
    const a = await restartableMemcached();
    const b = await restartableMemcached();
    const d = await daemonOn([a.address, b.address]);
    try {
      await waitFor('ready', async () => ((await d.ready()) ? true : undefined));
      await b.stop();
      const users = await publishUsers(broker(), 50);
      await d.settled(50);
      expect(await d.metric('kci_notifications_total', 'outcome="applied"')).toBe(50);
      expect(await broker().depth(POOL)).toBe(0);
      expect(await everyMarkerOn(a.address, users)).toBe(true);
      expect(
        await d.metric('kci_replay_pending_items', `server="${b.address}",action="markers"`),
      ).toBeGreaterThan(0);

      await b.restart();
      await waitFor('every missed marker on the returning server', () => everyMarkerOn(b.address, users));
      await waitFor('nothing left to replay', async () =>
        (await d.metric('kci_replay_pending_items')) === 0 ? true : undefined,
      );
      expect(await d.metric('kci_replays_total', 'action="markers",outcome="done"')).toBeGreaterThan(0);
    } finally {
      await d.stop();
      await a.stop();
      await b.stop();
    }
  });

  it('a partitioned server keeps its data and is given only what it missed meanwhile', async () => {
    const a = await restartableMemcached();
    const b = await restartableMemcached();
    const proxy = await startProxy(b.port);
    const viaProxy = `127.0.0.1:${proxy.port}`;
    const d = await daemonOn([a.address, viaProxy]);
    try {
      await waitFor('ready', async () => ((await d.ready()) ? true : undefined));
      const before = await publishUsers(broker(), 5);
      await d.settled(5);
      await waitFor('the first markers on both', () => everyMarkerOn(b.address, before));

      proxy.freeze();
      const during = await publishUsers(broker(), 20);
      await d.settled(25);
      expect(await broker().depth(POOL)).toBe(0);
      expect(await everyMarkerOn(a.address, during)).toBe(true);
      expect(await get(b.address, userKey(during[0] as string))).toBeNull();

      proxy.thaw();
      await waitFor('the markers written during the partition', () => everyMarkerOn(b.address, during));
      // The server kept its data: it was behind, not wiped.
      expect(await d.metric('kci_memcached_wipes_total')).toBe(0);
    } finally {
      await d.stop();
      await proxy.close();
      await a.stop();
      await b.stop();
    }
  });

  it('a restarted server (markers wiped) gets every live marker re-asserted', async () => {
    const a = await restartableMemcached();
    const b = await restartableMemcached();
    const d = await daemonOn([a.address, b.address]);
    try {
      await waitFor('ready', async () => ((await d.ready()) ? true : undefined));
      const users = await publishUsers(broker(), 10);
      await d.settled(10);
      await waitFor('markers on both', () => everyMarkerOn(b.address, users));
      const written = await get(a.address, userKey(users[0] as string));

      await b.restart();
      await waitFor('the wipe noticed', async () =>
        (await d.metric('kci_memcached_wipes_total', `server="${b.address}"`)) >= 1 ? true : undefined,
      );
      await waitFor('the live markers back on the restarted server', () => everyMarkerOn(b.address, users));
      // Re-asserted with the time of the invalidation, not the time of the re-assertion.
      expect(await get(b.address, userKey(users[0] as string))).toBe(written);
    } finally {
      await d.stop();
      await a.stop();
      await b.stop();
    }
  });

  it('an evicted marker is written again by the periodic re-assertion', async () => {
    const a = await restartableMemcached();
    const d = await daemonOn([a.address], 'markers: { reassertIntervalSeconds: 1 }\n');
    try {
      await waitFor('ready', async () => ((await d.ready()) ? true : undefined));
      const [user] = await publishUsers(broker(), 1);
      await d.settled(1);
      const key = userKey(user as string);
      const written = await get(a.address, key);
      expect(written).not.toBeNull();
      // Eviction, as far as a reader can tell: the marker is gone, the server kept everything else.
      await command(a.address, `delete ${key}`, /DELETED\r\n$/);
      await waitFor('the marker re-asserted', async () => (await get(a.address, key)) ?? undefined);
      expect(await get(a.address, key)).toBe(written);
      expect(await d.metric('kci_memcached_wipes_total')).toBe(0);
    } finally {
      await d.stop();
      await a.stop();
    }
  });

  it('a daemon restarted while a server is away reads the markers back and gives them to it', async () => {
    const a = await restartableMemcached();
    const b = await restartableMemcached();
    await b.stop();
    const first = await daemonOn([a.address, b.address]);
    let users: string[];
    try {
      users = await publishUsers(broker(), 5);
      await first.settled(5);
      expect(await broker().depth(POOL)).toBe(0);
    } finally {
      await first.stop();
    }
    // The first daemon is gone, and with it its memory of what the absent server missed.
    const second = await daemonOn([a.address, b.address]);
    try {
      await waitFor('the markers read back', async () =>
        second.logLines.some((l) => l.includes('read back live markers')) ? true : undefined,
      );
      await b.restart();
      await waitFor('the markers on the server that was away', () => everyMarkerOn(b.address, users));
    } finally {
      await second.stop();
      await a.stop();
      await b.stop();
    }
  });

  it('deletions missed by a partitioned server (region keys, cached tokens) are replayed when it is back', async () => {
    const a = await restartableMemcached();
    const b = await restartableMemcached();
    const proxy = await startProxy(b.port);
    const extra = `${RECOVERY}keystoneRegions: { enabled: true, repeatAfterMs: 0 }
middlewarePurge: { enabled: true, repeatAfterMs: 0, scanTimeoutMs: 1000 }
`;
    const d = await daemonOn([a.address, `127.0.0.1:${proxy.port}`], extra);
    try {
      await waitFor('ready', async () => ((await d.ready()) ? true : undefined));
      const user = hex();
      const regionKeys = regionIdKeys(d);
      for (const server of [a.address, b.address]) {
        for (const key of regionKeys) await set(server, key, 'region-id');
        await set(server, 'tokens/abc', cachedValue('None', tokenFor(user, hex())));
      }
      proxy.freeze();
      await broker().publish(osloV2Body('identity.user.updated', { resource_info: user }));
      await d.settled(1);
      expect(await keys(a.address)).not.toContain('tokens/abc');
      expect(await keys(b.address)).toContain('tokens/abc');

      proxy.thaw();
      await waitFor('the missed deletions replayed', async () => {
        const left = await keys(b.address);
        return left.includes('tokens/abc') || regionKeys.some((k) => left.includes(k)) ? undefined : true;
      });
      expect(await d.metric('kci_replays_total', 'action="middlewarePurge",outcome="done"')).toBeGreaterThan(
        0,
      );
      expect(await d.metric('kci_replays_total', 'action="keystoneRegions",outcome="done"')).toBeGreaterThan(
        0,
      );
    } finally {
      await d.stop();
      await proxy.close();
      await a.stop();
      await b.stop();
    }
  });
});

/** The region-id keys a user update resets with the default keystoneRegions settings. */
function regionIdKeys(d: TestDaemon): string[] {
  const event = { resourceType: 'user', operation: 'updated' } as IdentityEvent;
  return regionsFor(event, [{ kind: 'user', id: 'x' }], d.config.keystoneRegions).map(regionKey);
}
