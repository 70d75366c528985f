import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ENV_OVERRIDES } from '../../src/config/env-overrides.ts';
import { loadConfig, parseConfig } from '../../src/config/load.ts';
import { minimal, NEXT, problems, SECRET, withField } from '../support/config-text.ts';
import { REPO_ROOT } from '../support/paths.ts';
import { tempDir } from '../support/temp-dirs.ts';

describe('configuration', () => {
  it('fills safe defaults around the minimal contract', () => {
    const c = parseConfig(minimal, 'test.yaml');
    expect(c.amqp).toMatchObject({
      exchange: 'keystone',
      topics: ['notifications'],
      pool: 'keystone-cache-invalidator-region-two',
      durable: false,
      passive: false,
      prefetch: 64,
    });
    expect(c.amqp.transport.hosts).toHaveLength(2);
    expect(c.amqp.transport.vhost).toBe('openstack');
    expect(c.memcached.servers).toEqual([
      { host: '10.0.0.1', port: 11211 },
      { host: '10.0.0.2', port: 11211 },
      { host: 'fd00::3', port: 11211 },
      { host: 'mc-4', port: 11211 },
    ]);
    expect(c.markers).toEqual({
      prefix: 'kci',
      ttlSeconds: 3600,
      clockSkewMarginMs: 2000,
      mode: 'targeted',
      liveLimit: 100_000,
      reassertIntervalSeconds: 60,
    });
    expect(c.http).toEqual({ host: '0.0.0.0', port: 9464 });
  });

  it('accepts the contract shape from the pipeline issue verbatim', () => {
    const c = parseConfig(
      `region: region-two
amqp:
  url: rabbit://guest:guest@127.0.0.1:5672/
  exchange: keystone
  topics: [notifications]
  pool: keystone-cache-invalidator-region-two
  durable: false
memcached:
  servers: ["127.0.0.1:11211"]
markers:
  prefix: kci
  ttlSeconds: 3600
http:
  port: 9464
`,
      'contract.yaml',
    );
    expect(c.amqp.pool).toBe('keystone-cache-invalidator-region-two');
  });

  it.each([
    [
      'a misspelt field',
      minimal.replace('memcached:', 'memcached:\n  server: []'),
      'memcached: unknown field "server"',
    ],
    ['a missing region', minimal.replace('region: region-two\n', ''), 'region: required'],
    [
      'a pool of the wrong type',
      minimal.replace('amqp:\n', 'amqp:\n  pool: 7\n'),
      'amqp.pool: Invalid input: expected string',
    ],
    ['no memcached servers', minimal.replace(/servers: .*/, 'servers: []'), 'memcached.servers:'],
    ['a bad memcached entry', minimal.replace('"mc-4"', '"mc-4:notaport"'), 'memcached.servers.3:'],
    [
      'a TTL memcached would read as a date',
      `${minimal}markers: { ttlSeconds: 2592001 }\n`,
      'markers.ttlSeconds:',
    ],
    ['an unknown mode', `${minimal}markers: { mode: everything }\n`, 'markers.mode:'],
    ['a bad prefix', `${minimal}markers: { prefix: "a b" }\n`, 'markers.prefix:'],
    [
      'both url and urlFile',
      minimal.replace('amqp:\n', 'amqp:\n  urlFile: /x\n'),
      'amqp: set exactly one of url and urlFile',
    ],
    ['a broken transport_url', minimal.replace('rabbit://', 'kafka://'), 'amqp.url: scheme must be'],
    [
      'an unreadable urlFile',
      minimal.replace(/ {2}url: .*/, '  urlFile: /nonexistent/transport-url'),
      'amqp.urlFile: cannot read the file: ENOENT',
    ],
    [
      'half a client certificate',
      `${minimal.replace('amqp:\n', 'amqp:\n  tls: { certFile: /c.pem }\n')}`,
      'amqp.tls: certFile and keyFile go together',
    ],
    [
      'half a memcached client certificate',
      minimal.replace('memcached:\n', 'memcached:\n  tls: { enabled: true, keyFile: /k.pem }\n'),
      'memcached.tls: certFile and keyFile go together',
    ],
    [
      'a key passphrase without a key',
      minimal.replace('memcached:\n', 'memcached:\n  tls: { enabled: true, keyPassphraseFile: /p }\n'),
      'memcached.tls: keyPassphraseFile needs keyFile',
    ],
    ['a port out of range', `${minimal}http: { port: 70000 }\n`, 'http.port:'],
    [
      'YAML that does not parse',
      `${minimal}  url: [unclosed ${SECRET}\n`,
      `test.yaml:${NEXT + 1}:1: not valid YAML (`,
    ],
    [
      'an alias without its anchor',
      `${minimal}markers: *settings\n`,
      `test.yaml:${NEXT}:10: this alias names no anchor`,
    ],
    [
      'an alias bomb',
      `${minimal}x: &a [1, 1, 1, 1, 1, 1, 1, 1, 1]\ny: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nz: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nw: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n`,
      `test.yaml:${NEXT + 1}:8: aliases expand to more than 100 nodes`,
    ],
    ...[
      'amqp.connectTimeoutMs',
      'amqp.reconnect.maxDelayMs',
      'memcached.connectTimeoutMs',
      'memcached.requestTimeoutMs',
      'memcached.retry.initialDelayMs',
      'middlewarePurge.scanTimeoutMs',
      'middlewarePurge.scanIdleMs',
      'revocations.retry.maxDelayMs',
      'shutdown.graceMs',
    ].map((field) => [
      `a timer Node cannot run (${field}: 2^31 ms)`,
      withField(field, 2 ** 31),
      `${field}: at most 2147483647 ms (about 24.8 days), the longest timer Node can run: lower it`,
    ]),
  ])('rejects %s, naming the field', (_what, yaml, expected) => {
    const found = problems(yaml);
    expect(found.join('\n')).toContain(expected);
  });

  it('never repeats a configured secret in any problem it reports', () => {
    const cases = [
      minimal.replace('rabbit://', 'kafka://'),
      minimal.replace(':5672,', ':99999,'),
      `${minimal}  url: [unclosed ${SECRET}\n`,
      minimal.replace(
        `url: rabbit://kci:${SECRET}@`,
        `url: {password: ${SECRET}}\n  x: rabbit://kci:${SECRET}@`,
      ),
      // No space after the colon: the whole URL becomes a key of an unknown field.
      minimal.replace('amqp:\n', `amqp:\n  {url:rabbit://kci:${SECRET}@rmq:5672/}: 1\n`),
      minimal.replace(`rabbit://kci:${SECRET}@rmq-0:5672,`, `rabbit://kci:12/${SECRET}@rmq-0:5672,`),
    ];
    for (const yaml of cases) {
      const text = problems(yaml).join('\n');
      expect(text).not.toBe('');
      expect(text).not.toContain(SECRET);
    }
  });

  it('reads the transport URL from urlFile (a mounted Secret)', () => {
    const dir = tempDir('kci-config');
    writeFileSync(join(dir, 'url'), `rabbit://kci:${SECRET}@rmq:5672/\n`);
    const c = parseConfig(minimal.replace(/ {2}url: .*/, `  urlFile: ${join(dir, 'url')}`), 'test.yaml');
    expect(c.amqp.transport.hosts[0]).toMatchObject({ hostname: 'rmq', password: SECRET });
  });

  it('applies the documented environment overrides', () => {
    const c = parseConfig(minimal, 'test.yaml', {
      KCI_REGION: 'region-three',
      KCI_AMQP_URL: 'amqps://x:y@rmq-9/',
      KCI_MEMCACHED_SERVERS: '10.1.0.1:11211, 10.1.0.2:11211',
      KCI_HTTP_PORT: '9999',
      KCI_LOG_LEVEL: 'debug',
      KCI_MARKERS_MODE: 'global',
      KCI_AMQP_POOL: 'pool-x',
    });
    expect(c.region).toBe('region-three');
    expect(c.amqp.transport).toMatchObject({ tls: true, hosts: [{ hostname: 'rmq-9', port: 5671 }] });
    expect(c.memcached.servers).toHaveLength(2);
    expect(c.http.port).toBe(9999);
    expect(c.log.level).toBe('debug');
    expect(c.markers.mode).toBe('global');
    expect(c.amqp.pool).toBe('pool-x');
  });

  it('names the field when an environment override is invalid', () => {
    expect(problems(minimal, { KCI_HTTP_PORT: 'ninety' }).join('\n')).toContain('http.port:');
  });

  it('KCI_AMQP_URL_FILE replaces a url from the file', () => {
    expect(problems(minimal, { KCI_AMQP_URL_FILE: '/nonexistent' }).join('\n')).toContain(
      'amqp.urlFile: cannot read',
    );
  });

  it('reports a config file that cannot be read', () => {
    expect(() => loadConfig('/nonexistent/config.yaml')).toThrow(/cannot read the config file: ENOENT/);
  });

  it('documents every environment override in docs/configuration.md', () => {
    const doc = readFileSync(join(REPO_ROOT, 'docs/configuration.md'), 'utf8');
    for (const o of ENV_OVERRIDES) expect(doc).toContain(`\`${o.name}\``);
  });

  it('ships config/example.yaml and config/local.yaml that validate', () => {
    for (const file of ['config/example.yaml', 'config/local.yaml']) {
      const text = readFileSync(join(REPO_ROOT, file), 'utf8');
      expect(() => parseConfig(text, file, { KCI_AMQP_URL: 'rabbit://u:p@h/?ssl=1' })).not.toThrow();
    }
  });
});
