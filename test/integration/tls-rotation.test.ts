import { execFileSync } from 'node:child_process';
import { copyFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memcachedServers } from '../../src/adapters/memcached/servers.ts';
import { parseConfig } from '../../src/config/load.ts';
import { createPoolQueue, useBroker } from '../support/broker.ts';
import { startTestDaemon, testConfigYaml } from '../support/daemon.ts';
import { runName } from '../support/run-name.ts';
import type { TestProxy } from '../support/tcp-proxy.ts';
import { tempDir } from '../support/temp-dirs.ts';
import { makePki, startTlsBrokerProxy, startTlsMemcached, type TestPki } from '../support/tls.ts';
import { waitFor } from '../support/wait.ts';

const POOL = runName('kci-test-tls-rotation');
const PASSPHRASE = 'c0rrect-h0rse-never-printed';

/** cert-manager's way: the new file is complete before it takes the old one's name. */
function replace(target: string, source: string): void {
  copyFileSync(source, `${target}.new`);
  renameSync(`${target}.new`, target);
}

describe('TLS files: encrypted keys, and rotation without a restart', () => {
  const broker = useBroker(POOL);
  let pki: TestPki;
  /** Another CA, whose client certificate the TLS memcached refuses. */
  let stranger: TestPki;
  let memcached: { address: string; stop(): void };
  let proxy: TestProxy;

  beforeAll(async () => {
    [pki, stranger] = [makePki(), makePki()];
    memcached = await startTlsMemcached(pki);
    proxy = await startTlsBrokerProxy(pki);
  });

  afterAll(async () => {
    memcached?.stop();
    await proxy?.close();
  });

  it('opens an encrypted client key with the passphrase from its file, over mutual TLS', async () => {
    const dir = tempDir('kci-tls-passphrase');
    const key = join(dir, 'client.key');
    const passphrase = join(dir, 'passphrase');
    execFileSync('openssl', [
      'pkey',
      '-in',
      pki.clientKey,
      '-aes256',
      '-passout',
      `pass:${PASSPHRASE}`,
      '-out',
      key,
    ]);
    writeFileSync(passphrase, `${PASSPHRASE}\n`);
    const tls = `{ enabled: true, caFile: ${pki.ca}, certFile: ${pki.clientCert}, keyFile: ${key}`;
    const configWith = (file: string) =>
      parseConfig(
        testConfigYaml(POOL, {
          servers: [memcached.address],
          memcached: [`tls: ${tls}, keyPassphraseFile: ${file} }`],
        }),
        'test',
      );
    const [server] = memcachedServers(configWith(passphrase));
    try {
      expect(await server?.version()).toMatch(/^\d+\.\d+/);
    } finally {
      server?.close();
    }
    const wrong = join(dir, 'wrong');
    writeFileSync(wrong, 'not-it\n');
    expect(() => memcachedServers(configWith(wrong))).toThrow(
      /^memcached.tls.keyPassphraseFile: the passphrase does not open memcached.tls.keyFile/,
    );
  });

  it('a CA, client certificate and key replaced on disk are used by the next connection', async () => {
    // Start on the wrong files: a CA that did not sign the broker's proxy, and a client certificate
    // memcached does not accept.
    const dir = tempDir('kci-tls-rotation');
    const [ca, cert, key] = ['ca.pem', 'client.pem', 'client.key'].map((f) => join(dir, f)) as [
      string,
      string,
      string,
    ];
    copyFileSync(pki.otherCa, ca);
    copyFileSync(stranger.clientCert, cert);
    copyFileSync(stranger.clientKey, key);
    await createPoolQueue(broker(), POOL);
    const yaml = testConfigYaml(POOL, {
      url: `rabbit://guest:guest@127.0.0.1:${proxy.port}/?ssl=1`,
      amqp: [`tls: { caFile: ${ca} }`],
      servers: [memcached.address],
      memcached: [
        'probeIntervalMs: 100',
        `tls: { enabled: true, caFile: ${pki.ca}, certFile: ${cert}, keyFile: ${key} }`,
      ],
    });
    const d = await startTestDaemon(yaml, { waitReady: false });
    try {
      await waitFor('the broker refused for its certificate', async () =>
        d.logLines.find((l) => l.includes('cannot consume from the broker') && l.includes('certificate')),
      );
      expect(await d.metric('kci_memcached_server_up')).toBe(0);
      expect(await d.ready()).toBe(false);

      replace(ca, pki.ca);
      replace(cert, pki.clientCert);
      replace(key, pki.clientKey);
      await waitFor('ready on the rotated files', async () => ((await d.ready()) ? true : undefined));
      expect(await d.metric('kci_memcached_server_up')).toBe(1);
      expect(await d.metric('kci_broker_consuming')).toBe(1);
    } finally {
      await d.stop();
    }
  });

  it('certificate verification turned off is warned at start and counted', async () => {
    const yaml = testConfigYaml(POOL, {
      servers: [memcached.address],
      memcached: [
        `tls: { enabled: true, rejectUnauthorized: false, certFile: ${pki.clientCert}, keyFile: ${pki.clientKey} }`,
      ],
    });
    const d = await startTestDaemon(yaml);
    try {
      const warning = d.logLines.find((l) => l.includes('insecure endpoints allowed by the configuration'));
      expect(warning).toContain(`"memcached ${memcached.address}: certificate not verified`);
      expect(await d.metric('kci_insecure_endpoints', 'kind="memcached",reason="unverified"')).toBe(1);
      expect(await d.metric('kci_insecure_endpoints', 'reason="plaintext"')).toBe(0);
    } finally {
      await d.stop();
    }
  });
});
