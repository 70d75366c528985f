import { unzipSync } from 'node:zlib';
import { boundedId } from './bounded-id.ts';
import { MalformedNotification } from './errors.ts';
import type { Notification } from './notification.ts';
import { parseOsloTimestamp } from './timestamp.ts';

export interface RawMessage {
  readonly body: Uint8Array;
  /** AMQP application headers (0-9-1 `headers`, 1.0 application properties). */
  readonly headers: Readonly<Record<string, unknown>>;
}

export interface EnvelopeLimits {
  /** Upper bound for the body, before and after decompression. */
  readonly maxBodyBytes: number;
}

// kombu names its zlib compressor "application/x-gzip" although the stream is zlib, not gzip.
const ZLIB_CONTENT_TYPES = new Set(['application/x-gzip', 'application/zlib', 'zlib', 'gzip']);
const utf8 = new TextDecoder('utf-8', { fatal: true });
const MAX_EVENT_TYPE_LENGTH = 255;

/**
 * Bytes on the wire → the notification inside, for oslo envelope v2 and bare v1 messages alike, and
 * for either inside the `{"request": …, "context": …}` wrapper of oslo's AMQP 1.0 driver.
 */
export function parseEnvelope(raw: RawMessage, limits: EnvelopeLimits): Notification {
  const text = decodeText(decompress(raw, limits));
  const outer = unwrapAmqp1Request(parseJsonObject(text, 'body'));
  if ('oslo.version' in outer && 'oslo.message' in outer) {
    checkVersion(outer['oslo.version']);
    const inner = outer['oslo.message'];
    if (typeof inner !== 'string') {
      throw new MalformedNotification('envelope', 'oslo.message is not a JSON string');
    }
    return toNotification(parseJsonObject(inner, 'oslo.message'), 2);
  }
  return toNotification(outer, 1);
}

/**
 * oslo's AMQP 1.0 driver sends `{"request": <the v2 envelope, or a bare v1 message>, "context": {…}}`
 * (`marshal_request`); neither envelope has `request` and `context` without an `event_type`.
 */
function unwrapAmqp1Request(outer: Record<string, unknown>): Record<string, unknown> {
  if (!('request' in outer && 'context' in outer) || 'event_type' in outer || 'oslo.version' in outer) {
    return outer;
  }
  const request = outer.request;
  if (typeof request !== 'object' || request === null || Array.isArray(request)) {
    throw new MalformedNotification('envelope', 'the AMQP 1.0 request is not a JSON object');
  }
  return request as Record<string, unknown>;
}

function decompress(raw: RawMessage, limits: EnvelopeLimits): Uint8Array {
  if (raw.body.byteLength > limits.maxBodyBytes) {
    throw new MalformedNotification('too-large', `body is ${raw.body.byteLength} bytes, over the limit`);
  }
  const compression = raw.headers.compression;
  if (compression === undefined || compression === null) {
    // RabbitMQ 3's AMQP 1.0 plugin hands a message published over 0-9-1 on without its headers: a zlib
    // stream (which no JSON object can start like) is inflated all the same.
    return isZlibStream(raw.body) ? inflate(raw.body, limits) : raw.body;
  }
  if (typeof compression !== 'string' || !ZLIB_CONTENT_TYPES.has(compression.toLowerCase())) {
    throw new MalformedNotification('compression', 'unsupported compression header (only zlib is supported)');
  }
  return inflate(raw.body, limits);
}

/** RFC 1950: deflate (CM 8), and the two header bytes a multiple of 31. */
function isZlibStream(body: Uint8Array): boolean {
  const [cmf, flg] = body;
  return cmf !== undefined && flg !== undefined && (cmf & 0x0f) === 8 && ((cmf << 8) | flg) % 31 === 0;
}

function inflate(body: Uint8Array, limits: EnvelopeLimits): Uint8Array {
  try {
    return unzipSync(body, { maxOutputLength: limits.maxBodyBytes });
  } catch (cause) {
    const tooLarge = (cause as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE';
    throw new MalformedNotification(
      tooLarge ? 'too-large' : 'compression',
      tooLarge ? 'decompressed body is over the limit' : 'body does not inflate as zlib',
      { cause },
    );
  }
}

function decodeText(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch (cause) {
    throw new MalformedNotification('encoding', 'body is not valid UTF-8', { cause });
  }
}

function parseJsonObject(text: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new MalformedNotification('json', `${what} is not valid JSON`, { cause });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new MalformedNotification('json', `${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

// oslo's version_is_compatible('2.0', v): same major, minor not newer than ours.
function checkVersion(version: unknown): void {
  const m = typeof version === 'string' ? /^(\d+)\.(\d+)$/.exec(version) : null;
  if (!m || Number(m[1]) !== 2 || Number(m[2]) > 0) {
    throw new MalformedNotification('envelope-version', 'unsupported oslo.version (expected 2.0)');
  }
}

function toNotification(message: Record<string, unknown>, envelopeVersion: 1 | 2): Notification {
  const eventType = message.event_type;
  if (typeof eventType !== 'string' || eventType.length === 0) {
    throw new MalformedNotification('field-type', 'event_type is missing or not a string');
  }
  // Keystone's longest is under 60 characters; a name is logged and counted, never held long.
  if (eventType.length > MAX_EVENT_TYPE_LENGTH) {
    throw new MalformedNotification(
      'field-type',
      `event_type is longer than ${MAX_EVENT_TYPE_LENGTH} characters`,
    );
  }
  const payload = message.payload;
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw new MalformedNotification('field-type', 'payload is missing or not an object');
  }
  const timestamp = optionalString(message, 'timestamp');
  const messageId = optionalString(message, 'message_id') ?? optionalString(message, '_unique_id');
  return {
    messageId: messageId === null ? null : boundedId(messageId),
    eventType,
    publisherId: optionalString(message, 'publisher_id'),
    priority: optionalString(message, 'priority'),
    timestamp: timestamp === null ? null : parseOsloTimestamp(timestamp),
    payload: payload as Record<string, unknown>,
    envelopeVersion,
  };
}

function optionalString(message: Record<string, unknown>, field: string): string | null {
  const value = message[field];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') {
    throw new MalformedNotification('field-type', `${field} is not a string`);
  }
  return value;
}
