import { describe, expect, it } from 'vitest';
import { harvestMarkers, type IgnoredMarkerReason } from '../../src/actions/harvest-markers.ts';
import { memcachedServers } from '../../src/adapters/memcached/servers.ts';
import { parseConfig } from '../../src/config/load.ts';
import { runCli, writeConfig } from '../support/child-daemon.ts';
import { testConfigYaml } from '../support/daemon.ts';
import { rawSet, setMany } from '../support/memcached-probe.ts';
import { restartableMemcached } from '../support/memcached-process.ts';
import { runName } from '../support/run-name.ts';

// A memcached of this test's own: the odd keys it plants go when it stops, whatever happens.
describe('reading markers back from a server that also holds keys the text protocol cannot name', () => {
  it('reads every marker and passes over the others, in the daemon and in the markers command', async () => {
    const memcached = await restartableMemcached();
    try {
      const server = memcached.address;
      const now = Date.now();
      await setMany(server, [
        ['kci:v1:user:fine', String(now)],
        ['kci:v1:user:café', String(now)],
      ]);
      // Key bytes 0xff 0xfe, as a binary- or meta-protocol client may store them.
      await rawSet(
        server,
        Buffer.concat([
          Buffer.from('set kci:v1:user:'),
          Buffer.from([0xff, 0xfe]),
          Buffer.from(' 0 300 1\r\n1\r\n'),
        ]),
      );
      const yaml = testConfigYaml(runName('kci-test-read-back'), { servers: [server] });
      const [client] = memcachedServers(parseConfig(yaml, 'test'));
      if (client === undefined) throw new Error('no server configured');
      try {
        const remembered: string[] = [];
        const ignored: IgnoredMarkerReason[] = [];
        const settings = {
          prefix: 'kci',
          ttlSeconds: 3600,
          clockSkewMarginMs: 2_000,
          limits: { timeoutMs: 5_000, idleMs: 1_000, maxKeys: 10_000 },
        };
        const sink = {
          remember: (key: string) => remembered.push(key),
          ignored: (r: IgnoredMarkerReason) => ignored.push(r),
        };
        const found = await harvestMarkers(client, settings, sink, now, new AbortController().signal);
        expect(found).toBe(1);
        expect(remembered).toEqual(['kci:v1:user:fine']);
        expect(ignored).toEqual([]);
      } finally {
        client.close();
      }
      const markers = runCli(['markers', '--config', writeConfig(yaml)]);
      const code = await markers.exited;
      expect(code).toBe(0);
      expect(markers.output()).toContain('kci:v1:user:fine');
      expect(markers.output()).not.toContain('error');
    } finally {
      await memcached.stop();
    }
  });
});
