import type { Message } from 'rhea';
import type { RawMessage } from '../../core/envelope.ts';

/** AMQP 1.0's data section, as rhea hands it on: one buffer, or several (`multiple`). */
const DATA = 0x75;

/**
 * A received AMQP 1.0 message as the bytes and headers the core reads, or null when its body cannot
 * hold a notification. Publishers put one there in one of three ways: over AMQP 0-9-1 (the broker hands
 * the body on as a data section), oslo's AMQP 1.0 driver (an AMQP value holding a JSON string), or a
 * binary value. Headers are the application properties (RabbitMQ 4 puts 0-9-1 headers there).
 */
export function rawMessage(message: Message): RawMessage | null {
  const body = bodyBytes(message.body);
  if (body === null) return null;
  const headers = message.application_properties ?? {};
  return { body, headers };
}

function bodyBytes(body: unknown): Uint8Array | null {
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (body instanceof Uint8Array) return body;
  if (isSection(body) && body.typecode === DATA) {
    if (body.content instanceof Uint8Array) return body.content;
    if (Array.isArray(body.content) && body.content.every((c) => c instanceof Uint8Array)) {
      return Buffer.concat(body.content);
    }
  }
  return null;
}

function isSection(body: unknown): body is { typecode: number; content: unknown } {
  return typeof body === 'object' && body !== null && 'typecode' in body && 'content' in body;
}
