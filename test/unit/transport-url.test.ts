import { describe, expect, it } from 'vitest';
import {
  amqpProtocol,
  describeBroker,
  InvalidTransportUrl,
  parseTransportUrl,
} from '../../src/config/transport-url.ts';

describe('oslo transport_url', () => {
  it('reads one host with credentials and the default vhost', () => {
    expect(parseTransportUrl('rabbit://nova:s3cret@10.0.0.5:5672/')).toEqual({
      scheme: 'rabbit',
      hosts: [{ hostname: '10.0.0.5', port: 5672, username: 'nova', password: 's3cret' }],
      vhost: '/',
      tls: false,
      ignoredOptions: [],
      otherIgnoredOptions: 0,
    });
  });

  it('reads several hosts, each with its credentials, and the vhost from the path', () => {
    const t = parseTransportUrl('rabbit://a:pa@rmq-0:5672,b:pb@rmq-1:5673,c:pc@rmq-2/openstack');
    expect(t.hosts.map((h) => [h.username, h.password, h.hostname, h.port])).toEqual([
      ['a', 'pa', 'rmq-0', 5672],
      ['b', 'pb', 'rmq-1', 5673],
      ['c', 'pc', 'rmq-2', 5672],
    ]);
    expect(t.vhost).toBe('openstack');
  });

  it('decodes percent-encoded credentials and vhost', () => {
    const t = parseTransportUrl('rabbit://us%40er:p%3Ass%2Fw%40rd@h:5672/%2Fnova');
    expect(t.hosts[0]).toMatchObject({ username: 'us@er', password: 'p:ss/w@rd' });
    expect(t.vhost).toBe('/nova');
  });

  it('keeps a password containing ":" whole, as oslo does (split at the first colon)', () => {
    expect(parseTransportUrl('rabbit://u:a:b@h/').hosts[0]?.password).toBe('a:b');
  });

  it('uses guest/guest for hosts without credentials, like oslo', () => {
    expect(parseTransportUrl('amqp://h1,h2:5673/').hosts[1]).toEqual({
      hostname: 'h2',
      port: 5673,
      username: 'guest',
      password: 'guest',
    });
  });

  it('reads IPv6 hosts in brackets', () => {
    expect(
      parseTransportUrl('rabbit://u:p@[fd00::1]:5672,u:p@[fd00::2]/').hosts.map((h) => [h.hostname, h.port]),
    ).toEqual([
      ['fd00::1', 5672],
      ['fd00::2', 5672],
    ]);
  });

  it.each([
    ['rabbit://h/?ssl=1', true, 5671],
    ['rabbit://h/?ssl=true', true, 5671],
    ['rabbit://h/?ssl=0', false, 5672],
    ['amqps://h/', true, 5671],
    ['amqps://h:5999/', true, 5999],
  ])('%s → tls=%s, default port %d', (url, tls, port) => {
    const t = parseTransportUrl(url);
    expect(t.tls).toBe(tls);
    expect(t.hosts[0]?.port).toBe(port);
  });

  it('reports query options it does not use', () => {
    expect(parseTransportUrl('rabbit://h/?ssl=1&heartbeat_timeout_threshold=30').ignoredOptions).toEqual([
      'heartbeat_timeout_threshold',
    ]);
  });

  it('names only options shaped like an oslo option, and counts the others', () => {
    const t = parseTransportUrl('rabbit://h/?ssl=1&heartbeat_rate=3&Top$ecret=1&x-y=2&heartbeat_rate=4');
    expect(t.ignoredOptions).toEqual(['heartbeat_rate']);
    expect(t.otherIgnoredOptions).toBe(2);
  });

  it('keeps a password containing "@" whole (the host follows the last "@")', () => {
    expect(parseTransportUrl('rabbit://u:a@b[c]@h/').hosts[0]).toMatchObject({
      password: 'a@b[c]',
      hostname: 'h',
    });
  });

  it.each(['?', '#', '/', ','])(
    'refuses a password with an unencoded %s, whatever precedes it, echoing none of it',
    (c) => {
      for (const url of [`rabbit://u:123${c}topsecret@h:5672/`, `rabbit://u:top${c}secret@h/`]) {
        expect(() => parseTransportUrl(url)).toThrow(InvalidTransportUrl);
        expect(() => parseTransportUrl(url)).not.toThrow(/top|secret|123/);
      }
    },
  );

  it.each([
    ['no scheme', 'guest:guest@h:5672/'],
    ['a scheme named like an Object property', 'constructor://u:topsecret@h/'],
    ['an unknown scheme', 'kafka://u:topsecret@h/'],
    ['no host', 'rabbit:///'],
    ['a bad port', 'rabbit://u:topsecret@h:99999/'],
    ['an unclosed IPv6 host', 'rabbit://u:topsecret@[fd00::1/'],
    ['a bad percent-encoding', 'rabbit://u:top%zzsecret@h/'],
    ['an unencoded / in the password', 'rabbit://kci:1234/topsecret@rmq:5672/'],
    ['an unencoded , in the password', 'rabbit://kci:12,34topsecret@rmq:5672/'],
    ['credentials on some hosts only', 'rabbit://u:topsecret@h1,h2/'],
  ])('rejects %s without repeating the URL', (_what, url) => {
    let message = '';
    try {
      parseTransportUrl(url);
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidTransportUrl);
      message = (error as Error).message;
    }
    expect(message).not.toBe('');
    expect(message).not.toContain('topsecret');
  });

  it('describes a broker for logs without its credentials', () => {
    const t = parseTransportUrl('rabbit://nova:s3cret@[fd00::1]:5672/open%2Fstack?ssl=1');
    const text = describeBroker(t.hosts[0] as never, t.vhost, t.tls);
    expect(text).toBe('amqps://[fd00::1]:5672/open%2Fstack');
    expect(text).not.toContain('s3cret');
  });

  it.each([
    ['rabbit://h/', '0-9-1'],
    ['rabbit://h/?ssl=1', '0-9-1'],
    ['amqp://h/', '1.0'],
    ['amqps://h/', '1.0'],
  ] as const)("%s speaks AMQP %s, as oslo's drivers do", (url, protocol) => {
    expect(amqpProtocol(parseTransportUrl(url), 'auto')).toBe(protocol);
  });

  it('an explicit protocol wins over the scheme (RabbitMQ 4 read over AMQP 1.0 from a rabbit:// URL)', () => {
    expect(amqpProtocol(parseTransportUrl('rabbit://h/'), '1.0')).toBe('1.0');
    expect(amqpProtocol(parseTransportUrl('amqp://h/'), '0-9-1')).toBe('0-9-1');
  });
});
