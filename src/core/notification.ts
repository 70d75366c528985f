/** One oslo.messaging notification, as Keystone's notifier built it (the inner message of the envelope). */
export interface Notification {
  /** uuid4 from the publisher; the deduplication key. Null only for hand-made messages that lack it. */
  readonly messageId: string | null;
  readonly eventType: string;
  readonly publisherId: string | null;
  readonly priority: string | null;
  /** Epoch milliseconds of the publisher's clock; null when absent or unreadable (the event still applies). */
  readonly timestamp: number | null;
  readonly payload: Readonly<Record<string, unknown>>;
  /** 1 for the bare dict (`driver = messaging`), 2 for the `oslo.version` envelope (`messagingv2`). */
  readonly envelopeVersion: 1 | 2;
}
