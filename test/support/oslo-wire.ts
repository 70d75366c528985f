import { randomUUID } from 'node:crypto';

/**
 * Notification bodies in the exact shape Keystone's notifier sends (see test/fixtures): the v2 envelope
 * `{"oslo.version": "2.0", "oslo.message": "<JSON string>"}` with a fresh message_id and a naive-UTC
 * timestamp `YYYY-MM-DD HH:MM:SS.ffffff`. Used by tests and the demo to make new events.
 */
export function osloV2Body(
  eventType: string,
  payload: Record<string, unknown>,
  messageId = randomUUID(),
): Buffer {
  const inner = {
    message_id: messageId,
    publisher_id: 'identity.central-keystone',
    event_type: eventType,
    priority: 'INFO',
    payload,
    timestamp: osloTimestamp(new Date()),
    _unique_id: randomUUID().replaceAll('-', ''),
  };
  return Buffer.from(JSON.stringify({ 'oslo.version': '2.0', 'oslo.message': JSON.stringify(inner) }));
}

function osloTimestamp(d: Date): string {
  return `${d.toISOString().replace('T', ' ').replace('Z', '')}000`;
}
