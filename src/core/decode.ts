import { type EnvelopeLimits, parseEnvelope, type RawMessage } from './envelope.ts';
import { MalformedNotification, type MalformedReason } from './errors.ts';
import { type IdentityEvent, toIdentityEvent } from './events.ts';
import type { Notification } from './notification.ts';
import { targetsFor } from './rules.ts';
import type { Target } from './targets.ts';

/** What a Keystone notification on the wire means for invalidation, or why it never can. */
export type DecodedNotification =
  | {
      readonly ok: true;
      readonly notification: Notification;
      readonly event: IdentityEvent;
      /** The targeted targets; an action may widen them (markers.mode: global). Empty: nothing to do. */
      readonly targets: Target[];
    }
  | {
      readonly ok: false;
      /** The event type when the envelope could be read, else null. */
      readonly eventType: string | null;
      readonly reason: MalformedReason | 'unexpected';
      /** Why, in words that never quote the message. */
      readonly detail: string;
    };

/** Bytes and headers as a broker delivered them → envelope → event → targets, the whole pure core. */
export function decodeNotification(raw: RawMessage, limits: EnvelopeLimits): DecodedNotification {
  let notification: Notification;
  try {
    notification = parseEnvelope(raw, limits);
  } catch (error) {
    return malformed(null, error);
  }
  try {
    const event = toIdentityEvent(notification);
    return { ok: true, notification, event, targets: targetsFor(event, 'targeted') };
  } catch (error) {
    return malformed(notification.eventType, error);
  }
}

function malformed(eventType: string | null, error: unknown): DecodedNotification {
  if (error instanceof MalformedNotification) {
    return { ok: false, eventType, reason: error.reason, detail: error.message };
  }
  // A bug of ours, not the message's fault; it is parked all the same rather than retried forever.
  return { ok: false, eventType, reason: 'unexpected', detail: String(error) };
}
