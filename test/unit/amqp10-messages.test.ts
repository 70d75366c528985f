import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { rawMessage } from '../../src/adapters/amqp10/message-body.ts';
import { amqp10Hint } from '../../src/adapters/amqp10/source.ts';
import { sourceAddress } from '../../src/adapters/amqp10/source-address.ts';
import { decodeNotification } from '../../src/core/decode.ts';
import { loadAmqp10Views } from '../support/fixtures.ts';

const rhea = createRequire(import.meta.url)('rhea') as typeof import('rhea');
const text = (raw: ReturnType<typeof rawMessage>) => (raw === null ? null : Buffer.from(raw.body).toString());

describe('AMQP 1.0 bodies → the bytes the core reads', () => {
  const json = '{"oslo.version": "2.0", "oslo.message": "{}"}';

  it.each(loadAmqp10Views().map((f) => [f.name, f] as const))(
    '%s: the data section RabbitMQ hands on decodes to its event',
    (name, f) => {
      const raw = rawMessage({ body: rhea.message.data_section(f.body) });
      expect(Buffer.from(raw?.body ?? []).equals(f.body)).toBe(true);
      const decoded = decodeNotification(raw as NonNullable<typeof raw>, { maxBodyBytes: 1_048_576 });
      expect(decoded.ok && decoded.notification.eventType).toBe(
        /--(identity\.[a-z_.]+)\.json$/.exec(name)?.[1],
      );
    },
  );

  it.each([
    ['an AMQP value holding a string (oslo’s AMQP 1.0 driver)', json],
    ['an AMQP value holding binary', Buffer.from(json)],
    [
      'several data sections, joined',
      rhea.message.data_sections([Buffer.from(json.slice(0, 9)), Buffer.from(json.slice(9))]),
    ],
  ])('%s', (_what, body) => {
    expect(text(rawMessage({ body }))).toBe(json);
  });

  it.each([
    ['an AMQP map', { a: 1 }],
    ['a number', 42],
    ['an AMQP sequence section', rhea.message.sequence_section([1, 2])],
    ['no body', undefined],
  ])('%s holds no notification', (_what, body) => {
    expect(rawMessage({ body })).toBeNull();
  });

  it('application properties are the headers (compression, for one)', () => {
    const raw = rawMessage({ body: json, application_properties: { compression: 'application/x-gzip' } });
    expect(raw?.headers).toEqual({ compression: 'application/x-gzip' });
  });
});

describe('the address the receiver attaches to', () => {
  it.each([
    [{ product: 'RabbitMQ', version: '4.2.1' }, '/queues/kci%2Fregion%20two'],
    [{ product: 'RabbitMQ', version: '3.10.8' }, '/amq/queue/kci/region two'],
  ])('RabbitMQ %o: its form of the pool queue', (peer, address) => {
    expect(sourceAddress(undefined, 'kci/region two', peer)).toBe(address);
  });

  it('a configured address wins, whatever the peer', () => {
    expect(sourceAddress('regional/notify', 'pool', { product: 'RabbitMQ', version: '4.0.0' })).toBe(
      'regional/notify',
    );
  });

  it.each([
    [{ product: 'qpid-dispatch-router', version: '1.19.0' }, '"qpid-dispatch-router"'],
    [undefined, 'not RabbitMQ'],
    [{ product: 'RabbitMQ', version: '2.8' }, '"RabbitMQ"'],
  ])('any other peer (%o) must be configured', (peer, named) => {
    expect(() => sourceAddress(undefined, 'pool', peer)).toThrow(named);
    expect(() => sourceAddress(undefined, 'pool', peer)).toThrow('set amqp.sourceAddress');
  });
});

describe('hints for AMQP 1.0 errors', () => {
  it.each([
    [
      "connection closed by the broker: amqp:not-found: NOT_FOUND - no queue 'p' in vhost '/'",
      'declare --config',
    ],
    ['connection closed by the broker: amqp:unauthorized-access: Failed to authenticate: 1', 'SASL login'],
    ['protocol error: Unsupported AMQP version: 0-9-1', 'rabbitmq_amqp1_0 plugin'],
  ])('%s', (message, hint) => {
    expect(amqp10Hint(message, 'p')).toContain(hint);
  });

  it('no hint for what it does not know', () => {
    expect(amqp10Hint('connection lost: read ECONNRESET', 'p')).toBeUndefined();
  });
});
