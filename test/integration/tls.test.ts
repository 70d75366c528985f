import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeystoneRegionsAction } from '../../src/actions/keystone-regions.ts';
import { MiddlewarePurgeAction } from '../../src/actions/middleware-purge.ts';
import { writeMarker } from '../../src/actions/write-marker.ts';
import { declarePool } from '../../src/adapters/amqp091/declare.ts';
import { MemcachedConnection } from '../../src/adapters/memcached/connection.ts';
import { parseConfig } from '../../src/config/load.ts';
import { parseMemcachedServer } from '../../src/config/memcached-servers.ts';
import { target } from '../../src/core/targets.ts';
import { useBroker } from '../support/broker.ts';
import { startTestDaemon, testConfigYaml } from '../support/daemon.ts';
import { cachedValue, tokenFor } from '../support/middleware-entries.ts';
import { osloV2Body } from '../support/oslo-wire.ts';
import { runName } from '../support/run-name.ts';
import type { TestProxy } from '../support/tcp-proxy.ts';
import { makePki, startTlsBrokerProxy, startTlsMemcached, type TestPki } from '../support/tls.ts';
import { waitFor } from '../support/wait.ts';

const POOL = runName('kci-test-tls');
const PURGE_SETTINGS = {
  keyPrefix: 'tokens/',
  batchSize: 100,
  deleteAllOnGlobal: true,
  deleteUnreadable: true,
  repeatAfterMs: 0,
  scanTimeoutMs: 10_000,
  scanIdleMs: 2_000,
  scanMaxKeys: 250_000,
} as const;
const NO_PURGE_OBSERVER = { looked: () => {}, scanned: () => {}, deleted: () => {}, failed: () => {} };
const REGION_SETTINGS = {
  always: ['tokens'],
  onProjectOrDomainChange: [],
  onAssignmentChange: [],
  repeatAfterMs: 0,
};

describe('TLS to memcached and to the broker', () => {
  const broker = useBroker(POOL);
  let pki: TestPki;
  let memcached: { address: string; stop(): void };
  let proxy: TestProxy;
  const conns: MemcachedConnection[] = [];
  const connect = (tls: Parameters<typeof tlsOptions>[0]) => {
    const c = new MemcachedConnection(parseMemcachedServer(memcached.address), {
      connectTimeoutMs: 2000,
      requestTimeoutMs: 2000,
      tls: () => tlsOptions(tls),
    });
    conns.push(c);
    return c;
  };
  const tlsOptions = (t: { ca: string; cert?: string; key?: string }) => ({
    ca: readFileSync(t.ca),
    ...(t.cert ? { cert: readFileSync(t.cert) } : {}),
    ...(t.key ? { key: readFileSync(t.key) } : {}),
    rejectUnauthorized: true,
  });

  beforeAll(async () => {
    pki = makePki();
    memcached = await startTlsMemcached(pki);
    proxy = await startTlsBrokerProxy(pki);
  });

  afterAll(async () => {
    for (const c of conns) c.close();
    memcached?.stop();
    await proxy?.close();
  });

  it('writes a marker over mutual TLS, verifying the server against the configured CA', async () => {
    const c = connect({ ca: pki.ca, cert: pki.clientCert, key: pki.clientKey });
    const key = `kci:v1:user:${randomBytes(8).toString('hex')}`;
    expect(await writeMarker(c, key, 1234, 60)).toBe('written');
    expect((await c.gets([key])).get(key)?.value.toString()).toBe('1234');
  });

  it('refuses a server whose certificate the configured CA did not sign', async () => {
    const c = connect({ ca: pki.otherCa, cert: pki.clientCert, key: pki.clientKey });
    await expect(c.version()).rejects.toThrow(/certificate/);
  });

  it('is refused by a server that requires a client certificate when none is configured', async () => {
    const c = connect({ ca: pki.ca });
    await expect(c.version()).rejects.toThrow();
  });

  it('purges keystonemiddleware entries and deletes region keys over mutual TLS (metadump included)', async () => {
    const c = connect({ ca: pki.ca, cert: pki.clientCert, key: pki.clientKey });
    const [user, other] = [randomBytes(8).toString('hex'), randomBytes(8).toString('hex')];
    const tokensRegion = '2d6cad476fdd468cd5142307ac89a6534277951e';
    await c.add(`tokens/${user}`, cachedValue('MAC', tokenFor(user, 'p')), 60);
    await c.add(`tokens/${other}`, cachedValue('MAC', tokenFor(other, 'p')), 60);
    await c.add(tokensRegion, 'pickle', 60);
    const purge = new MiddlewarePurgeAction([c], PURGE_SETTINGS, NO_PURGE_OBSERVER);
    await purge.apply([target('user', user)], new AbortController().signal);
    const regions = new KeystoneRegionsAction([c], REGION_SETTINGS, { applied: () => {}, failed: () => {} });
    await regions.apply(['tokens']);
    const left = await c.gets([`tokens/${user}`, `tokens/${other}`, tokensRegion]);
    expect([...left.keys()]).toEqual([`tokens/${other}`]);
  });

  // TLS by the URL: rabbit://…?ssl=1 is AMQP 0-9-1 (oslo's rabbit driver), amqps:// is AMQP 1.0.
  it.each([
    { protocol: '0-9-1', scheme: 'rabbit', query: '?ssl=1', component: 'amqp091' },
    { protocol: '1.0', scheme: 'amqps', query: '', component: 'amqp10' },
  ])(
    'runs end to end over AMQP $protocol with TLS ($scheme://…$query) and TLS memcached from the configuration',
    async ({ scheme, query, component }) => {
      const yaml = testConfigYaml(POOL, {
        url: `${scheme}://guest:guest@127.0.0.1:${proxy.port}/${query}`,
        amqp: [`tls: { caFile: ${pki.ca} }`],
        servers: [memcached.address],
        extra: '',
      }).replace(
        'memcached:\n',
        `memcached:\n  tls: { enabled: true, caFile: ${pki.ca}, certFile: ${pki.clientCert}, keyFile: ${pki.clientKey} }\n`,
      );
      // The AMQP 1.0 source declares nothing; the 0-9-1 one finds its queue as it left it.
      await declarePool(parseConfig(testConfigYaml(POOL), 'test').amqp, async () => {});
      const d = await startTestDaemon(yaml);
      try {
        const user = randomBytes(16).toString('hex');
        await broker().publish(osloV2Body('identity.user.updated', { resource_info: user }));
        const reader = connect({ ca: pki.ca, cert: pki.clientCert, key: pki.clientKey });
        const key = `kci:v1:user:${user}`;
        await waitFor('the marker over TLS', async () => (await reader.gets([key])).get(key) ?? undefined);
        const logs = d.logLines.join('\n');
        expect(logs).toContain(`"component":"${component}"`);
        expect(logs).toContain(`"broker":"amqps://127.0.0.1:${proxy.port}/%2F"`);
      } finally {
        await d.stop();
      }
    },
  );
});
