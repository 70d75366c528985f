import { decodeNotification } from '../core/decode.ts';
import type { EnvelopeLimits, RawMessage } from '../core/envelope.ts';
import type { SourceItem } from '../ports/source.ts';

/**
 * A Keystone notification from a broker (AMQP 0-9-1 or 1.0) as a source item: decoded by the pure
 * core, with the broker's facts about it (which source, whether it is a redelivery, the envelope
 * version) as the item's origin, for the logs.
 */
export function notificationItem(
  raw: RawMessage,
  limits: EnvelopeLimits,
  source: string,
  redelivered: boolean,
): SourceItem {
  const decoded = decodeNotification(raw, limits);
  if (!decoded.ok) {
    return {
      id: null,
      kind: decoded.eventType ?? 'unparseable',
      source,
      origin: { redelivered },
      content: { decoded: false, reason: decoded.reason, detail: decoded.detail },
    };
  }
  const { notification: n, event, targets } = decoded;
  return {
    id: n.messageId,
    kind: n.eventType,
    source,
    origin: { redelivered, envelope: n.envelopeVersion },
    content: { decoded: true, invalidation: { event, targets }, publishedAtMs: n.timestamp },
  };
}

/**
 * A message refused unread: the broker announced a body of `bytes`, over `processing.maxBodyBytes`.
 * It is parked as a body found too large after reading would be.
 */
export function unreadItem(bytes: number, source: string, redelivered: boolean): SourceItem {
  return {
    id: null,
    kind: 'unparseable',
    source,
    origin: { redelivered, bodyBytes: bytes },
    content: {
      decoded: false,
      reason: 'too-large',
      detail: `body is ${bytes} bytes, over the limit; not read`,
    },
  };
}
