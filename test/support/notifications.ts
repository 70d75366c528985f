import type { Notification } from '../../src/core/notification.ts';

/** A parsed oslo notification (envelope v2) carrying `payload`, for the pure-core tests. */
export function notification(eventType: string, payload: Record<string, unknown>): Notification {
  return {
    messageId: 'm',
    eventType,
    publisherId: null,
    priority: 'INFO',
    timestamp: null,
    payload,
    envelopeVersion: 2,
  };
}
