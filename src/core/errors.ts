/**
 * A message that can never be applied, whatever we retry: it is parked (rejected without requeue, to the
 * dead-letter exchange when one is configured) and counted. `reason` is a short, bounded label for metrics
 * and logs; it never contains message content.
 */
export class MalformedNotification extends Error {
  readonly reason: MalformedReason;

  constructor(reason: MalformedReason, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MalformedNotification';
    this.reason = reason;
  }
}

export type MalformedReason =
  | 'too-large'
  | 'compression'
  | 'encoding'
  | 'json'
  | 'envelope'
  | 'envelope-version'
  | 'field-type';
