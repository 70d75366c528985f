import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { insecureEndpoints, isLoopback } from '../../src/config/endpoint-security.ts';
import { parseConfig } from '../../src/config/load.ts';
import { refusals } from '../support/config-text.ts';
import { tempDir } from '../support/temp-dirs.ts';

const SECRET = 'pa55-w0rd-never-logged';
const SECRET_FILE = join(tempDir('kci-endpoint-security'), 'secret');
writeFileSync(SECRET_FILE, 'app-cred-secret\n');

/** A configuration whose broker, memcached servers and Keystone are the given ones. */
function yaml(o: { url: string; servers: string[]; memcached?: string; amqp?: string; keystone?: string }) {
  const poller = o.keystone
    ? `revocations:\n  enabled: true\n  authUrl: ${o.keystone}\n  applicationCredentialId: a\n  applicationCredentialSecretFile: ${SECRET_FILE}\n`
    : '';
  return `region: r
amqp:
  url: ${o.url}
${o.amqp ?? ''}memcached:
  servers: [${o.servers.map((s) => `"${s}"`).join(', ')}]
${o.memcached ?? ''}${poller}`;
}

const LOCAL = { url: 'rabbit://guest:guest@127.0.0.1:5672/', servers: ['127.0.0.1:11211'] };

describe('loopback, as written (no DNS)', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.255.0.9', true],
    ['::1', true],
    ['0:0:0:0:0:0:0:1', true],
    ['::ffff:127.0.0.1', true],
    ['localhost', true],
    ['LOCALHOST', true],
    ['128.0.0.1', false],
    ['10.0.0.1', false],
    ['fd00::1', false],
    ['::', false],
    ['localhost.example', false],
    ['rmq-0', false],
  ])('%s is loopback: %s', (host, expected) => {
    expect(isLoopback(host)).toBe(expected);
  });
});

describe('plaintext off loopback', () => {
  it('leaves the local services of the tests and the demo alone', () => {
    expect(refusals(yaml(LOCAL))).toEqual([]);
    expect(insecureEndpoints(parseConfig(yaml(LOCAL), 't'))).toEqual([]);
  });

  it('refuses a broker off loopback without TLS, naming the fix and no credential', () => {
    const found = refusals(
      yaml({ ...LOCAL, url: `rabbit://kci:${SECRET}@rmq-0:5672,kci:${SECRET}@127.0.0.1/` }),
    );
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^amqp: the transport_url asks for no TLS and host 1 is off loopback/);
    expect(found[0]).toContain('set amqp.allowPlaintext: true');
    expect(found.join('\n')).not.toContain(SECRET);
    expect(found.join('\n')).not.toContain('rmq-0');
  });

  it('refuses memcached servers off loopback without TLS, by position', () => {
    const found = refusals(yaml({ ...LOCAL, servers: ['127.0.0.1:11211', '10.0.0.2:11211', 'mc-3'] }));
    expect(found).toEqual([
      expect.stringMatching(
        /^memcached: tls.enabled is false and memcached.servers.1, memcached.servers.2 are off loopback .*memcached.allowPlaintext: true/,
      ),
    ]);
  });

  it('refuses an http:// Keystone off loopback: the credential would travel in clear', () => {
    const found = refusals(yaml({ ...LOCAL, keystone: 'http://keystone.central:5000/v3' }));
    expect(found).toEqual([
      expect.stringMatching(/^revocations.authUrl: http:\/\/ .*revocations.allowPlaintext: true/),
    ]);
    expect(refusals(yaml({ ...LOCAL, keystone: 'http://[::1]:5000/v3' }))).toEqual([]);
  });

  it('accepts each when TLS is on', () => {
    const text = yaml({
      url: 'amqps://kci:x@rmq-0/',
      servers: ['10.0.0.2:11211'],
      memcached: '  tls: { enabled: true }\n',
      keystone: 'https://keystone.central:5000/v3',
    });
    expect(refusals(text)).toEqual([]);
    expect(insecureEndpoints(parseConfig(text, 't'))).toEqual([]);
  });

  it('accepts each with its override, and lists it by host:port for the warning and the gauge', () => {
    const text = yaml({
      url: `rabbit://kci:${SECRET}@rmq-0:5672,kci:${SECRET}@[fd00::5]/`,
      amqp: '  allowPlaintext: true\n',
      servers: ['127.0.0.1:11211', 'mc-2:11212'],
      memcached: '  allowPlaintext: true\n',
      keystone: 'http://keystone.central/v3\n  allowPlaintext: true',
    });
    expect(refusals(text)).toEqual([]);
    const listed = insecureEndpoints(parseConfig(text, 't'));
    expect(listed).toEqual([
      { kind: 'broker', reason: 'plaintext', endpoint: 'rmq-0:5672' },
      { kind: 'broker', reason: 'plaintext', endpoint: '[fd00::5]:5672' },
      { kind: 'memcached', reason: 'plaintext', endpoint: 'mc-2:11212' },
      { kind: 'keystone', reason: 'plaintext', endpoint: 'keystone.central:80' },
    ]);
    expect(JSON.stringify(listed)).not.toContain(SECRET);
  });

  it('one override does not cover another kind', () => {
    const text = yaml({ url: 'rabbit://u:p@rmq-0/', amqp: '  allowPlaintext: true\n', servers: ['mc-1'] });
    expect(refusals(text)).toEqual([expect.stringMatching(/^memcached: /)]);
  });
});

describe('certificate verification turned off', () => {
  it('is allowed, and listed as unverified for every endpoint it applies to, loopback included', () => {
    const text = yaml({
      url: 'amqps://u:p@rmq-0,u:p@127.0.0.1/',
      amqp: '  tls: { rejectUnauthorized: false }\n',
      servers: ['127.0.0.1:11211'],
      memcached: '  tls: { enabled: true, rejectUnauthorized: false }\n',
      keystone: 'https://keystone.central/v3\n  tls: { rejectUnauthorized: false }',
    });
    expect(insecureEndpoints(parseConfig(text, 't'))).toEqual([
      { kind: 'broker', reason: 'unverified', endpoint: 'rmq-0:5671' },
      { kind: 'broker', reason: 'unverified', endpoint: '127.0.0.1:5671' },
      { kind: 'memcached', reason: 'unverified', endpoint: '127.0.0.1:11211' },
      { kind: 'keystone', reason: 'unverified', endpoint: 'keystone.central:443' },
    ]);
  });

  it('is not counted where TLS is not used (rejectUnauthorized of an unused TLS block)', () => {
    const text = yaml({ ...LOCAL, memcached: '  tls: { enabled: false, rejectUnauthorized: false }\n' });
    expect(insecureEndpoints(parseConfig(text, 't'))).toEqual([]);
  });
});
