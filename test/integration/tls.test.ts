import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeMarker } from '../../src/actions/write-marker.ts';
import { MemcachedConnection } from '../../src/adapters/memcached/connection.ts';
import { parseMemcachedServer } from '../../src/config/memcached-servers.ts';
import { useBroker } from '../support/broker.ts';
import { startTestDaemon, testConfigYaml } from '../support/daemon.ts';
import { osloV2Body } from '../support/oslo-wire.ts';
import type { TestProxy } from '../support/tcp-proxy.ts';
import { makePki, startTlsBrokerProxy, startTlsMemcached, type TestPki } from '../support/tls.ts';
import { waitFor } from '../support/wait.ts';

const POOL = 'kci-test-tls';

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
      tls: tlsOptions(tls),
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

  it('runs end to end with amqps:// and TLS memcached from the configuration', async () => {
    const yaml = testConfigYaml(POOL, {
      url: `amqps://guest:guest@127.0.0.1:${proxy.port}/`,
      amqp: [`tls: { caFile: ${pki.ca} }`],
      servers: [memcached.address],
      extra: '',
    }).replace(
      'memcached:\n',
      `memcached:\n  tls: { enabled: true, caFile: ${pki.ca}, certFile: ${pki.clientCert}, keyFile: ${pki.clientKey} }\n`,
    );
    const d = await startTestDaemon(yaml);
    try {
      const user = randomBytes(16).toString('hex');
      await broker().publish(osloV2Body('identity.user.updated', { resource_info: user }));
      const reader = connect({ ca: pki.ca, cert: pki.clientCert, key: pki.clientKey });
      const key = `kci:v1:user:${user}`;
      await waitFor('the marker over TLS', async () => (await reader.gets([key])).get(key) ?? undefined);
      expect(d.logLines.join('\n')).toContain(`"broker":"amqps://127.0.0.1:${proxy.port}/%2F"`);
    } finally {
      await d.stop();
    }
  });
});
