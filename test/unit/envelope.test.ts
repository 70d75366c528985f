import { deflateSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { parseEnvelope } from '../../src/core/envelope.ts';
import { MalformedNotification } from '../../src/core/errors.ts';
import { loadFixtures } from '../support/fixtures.ts';

const limits = { maxBodyBytes: 1_048_576 };
const raw = (body: string | Buffer, headers: Record<string, unknown> = {}) => ({
  body: typeof body === 'string' ? Buffer.from(body) : body,
  headers,
});
const inner = {
  message_id: '432ac996-286f-4238-ada7-58a85a327db1',
  publisher_id: 'identity.host1',
  event_type: 'identity.user.updated',
  priority: 'INFO',
  payload: { resource_info: 'abc123' },
  timestamp: '2026-11-22 05:42:18.050543',
  _unique_id: 'b122521b99c246deb641cb4281faee20',
};
const v2 = JSON.stringify({ 'oslo.version': '2.0', 'oslo.message': JSON.stringify(inner) });

function reasonOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof MalformedNotification) return error.reason;
    throw error;
  }
  throw new Error('expected a MalformedNotification');
}

describe('oslo envelope', () => {
  it.each(loadFixtures().map((f) => [f.name, f] as const))('parses the exact bytes of %s', (_name, f) => {
    const n = parseEnvelope({ body: f.body, headers: f.properties.headers ?? {} }, limits);
    expect(n.eventType).toBe(f.eventType);
    expect(n.envelopeVersion).toBe(2);
    expect(n.messageId).toMatch(/^[0-9a-f-]{36}$/);
    expect(n.timestamp).toBeGreaterThan(Date.UTC(2026, 0, 1));
  });

  it('reads the v2 envelope: version 2.0 and a JSON string inside', () => {
    const n = parseEnvelope(raw(v2), limits);
    expect(n).toEqual({
      messageId: inner.message_id,
      eventType: 'identity.user.updated',
      publisherId: 'identity.host1',
      priority: 'INFO',
      timestamp: Date.UTC(2026, 10, 22, 5, 42, 18, 50),
      payload: { resource_info: 'abc123' },
      envelopeVersion: 2,
    });
  });

  it('reads a v1 message (driver = messaging): the bare dict', () => {
    const n = parseEnvelope(raw(JSON.stringify(inner)), limits);
    expect(n.envelopeVersion).toBe(1);
    expect(n.eventType).toBe('identity.user.updated');
  });

  it('inflates kombu "gzip" bodies, which are zlib streams', () => {
    const n = parseEnvelope(raw(deflateSync(v2), { compression: 'application/x-gzip' }), limits);
    expect(n.payload).toEqual({ resource_info: 'abc123' });
  });

  it('inflates a zlib stream that arrives without its header (RabbitMQ 3 over AMQP 1.0 drops headers)', () => {
    const n = parseEnvelope(raw(deflateSync(v2)), limits);
    expect(n.payload).toEqual({ resource_info: 'abc123' });
  });

  it.each([
    ['the v2 envelope', JSON.parse(v2), 2],
    ['a bare v1 message', inner, 1],
  ] as const)("unwraps oslo's AMQP 1.0 request around %s", (_what, request, version) => {
    const body = JSON.stringify({ request, context: { user: 'u', request_id: 'req-1' } });
    const n = parseEnvelope(raw(body), limits);
    expect(n.envelopeVersion).toBe(version);
    expect(n.messageId).toBe(inner.message_id);
    expect(n.payload).toEqual({ resource_info: 'abc123' });
  });

  it('an AMQP 1.0 request that is not an object is malformed', () => {
    const body = JSON.stringify({ request: 'nope', context: {} });
    expect(reasonOf(() => parseEnvelope(raw(body), limits))).toBe('envelope');
  });

  it('also inflates a real gzip stream under the same header', () => {
    const n = parseEnvelope(raw(gzipSync(v2), { compression: 'application/x-gzip' }), limits);
    expect(n.eventType).toBe('identity.user.updated');
  });

  it('never keeps a huge message_id whole: 1.1 KB of zlib inflating to a 1,000,000-character id', () => {
    const huge = (c: string) => JSON.stringify({ ...inner, message_id: c.repeat(1_000_000) });
    const body = deflateSync(huge('a'), { level: 9 });
    expect(body.byteLength).toBeLessThan(1200);
    const id = parseEnvelope(raw(body, { compression: 'zlib' }), limits).messageId;
    expect(id?.length).toBeLessThanOrEqual(128);
    // Still an identity: the same id gives the same, another id another.
    expect(parseEnvelope(raw(huge('a')), limits).messageId).toBe(id);
    expect(parseEnvelope(raw(huge('b')), limits).messageId).not.toBe(id);
  });

  it('parks an event_type no Keystone sends, too long to log or count', () => {
    const long = JSON.stringify({ ...inner, event_type: `identity.${'x'.repeat(10_000)}` });
    expect(reasonOf(() => parseEnvelope(raw(long), limits))).toBe('field-type');
  });

  it('falls back to _unique_id when message_id is absent', () => {
    const { message_id: _, ...rest } = inner;
    expect(parseEnvelope(raw(JSON.stringify(rest)), limits).messageId).toBe(inner._unique_id);
  });

  it('keeps an event whose timestamp is unreadable, without a timestamp', () => {
    const n = parseEnvelope(raw(JSON.stringify({ ...inner, timestamp: 'yesterday' })), limits);
    expect(n.timestamp).toBeNull();
  });

  it.each([
    ['not JSON', raw('{"oslo.version": '), 'json'],
    ['a JSON array', raw('[1,2]'), 'json'],
    ['invalid UTF-8', raw(Buffer.from([0x7b, 0xff, 0xfe, 0x7d])), 'encoding'],
    [
      'an unknown envelope major version',
      raw(JSON.stringify({ 'oslo.version': '3.0', 'oslo.message': '{}' })),
      'envelope-version',
    ],
    [
      'a newer minor version',
      raw(JSON.stringify({ 'oslo.version': '2.1', 'oslo.message': '{}' })),
      'envelope-version',
    ],
    [
      'oslo.message that is not a string',
      raw(JSON.stringify({ 'oslo.version': '2.0', 'oslo.message': {} })),
      'envelope',
    ],
    [
      'oslo.message that is not JSON',
      raw(JSON.stringify({ 'oslo.version': '2.0', 'oslo.message': '{' })),
      'json',
    ],
    ['no event_type', raw(JSON.stringify({ payload: {} })), 'field-type'],
    ['an event_type that is a number', raw(JSON.stringify({ event_type: 7, payload: {} })), 'field-type'],
    [
      'a payload that is a string',
      raw(JSON.stringify({ event_type: 'identity.user.updated', payload: 'x' })),
      'field-type',
    ],
    ['a message_id that is a number', raw(JSON.stringify({ ...inner, message_id: 5 })), 'field-type'],
    ['an unsupported compression', raw(v2, { compression: 'application/x-bz2' }), 'compression'],
    ['a body that does not inflate', raw(v2, { compression: 'application/x-gzip' }), 'compression'],
    ['a body over the size limit', raw(Buffer.alloc(2048, 0x20)), 'too-large'],
  ])('rejects %s as malformed', (_what, message, reason) => {
    expect(reasonOf(() => parseEnvelope(message, { maxBodyBytes: 1024 }))).toBe(reason);
  });

  it('refuses a small compressed body that inflates past the limit (zip bomb)', () => {
    const bomb = deflateSync(Buffer.alloc(10_000_000, 0x20));
    expect(bomb.length).toBeLessThan(1024 * 64);
    expect(reasonOf(() => parseEnvelope(raw(bomb, { compression: 'application/x-gzip' }), limits))).toBe(
      'too-large',
    );
  });
});
