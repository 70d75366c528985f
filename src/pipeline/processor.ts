import { type EnvelopeLimits, parseEnvelope } from '../core/envelope.ts';
import { MalformedNotification } from '../core/errors.ts';
import { toIdentityEvent, UNKNOWN_EVENT } from '../core/events.ts';
import type { Notification } from '../core/notification.ts';
import type { RecentIds } from '../core/recent-ids.ts';
import { targetsFor } from '../core/rules.ts';
import { GLOBAL } from '../core/targets.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import { eventTypeLabel } from '../observability/metrics.ts';
import type { Invalidation } from '../ports/action.ts';
import type { Delivery, GapReason } from '../ports/source.ts';
import { CoalescerStopped, type InvalidationRunner } from './coalescer.ts';

export interface ProcessorDeps {
  readonly runners: readonly InvalidationRunner[];
  readonly limits: EnvelopeLimits;
  readonly recentIds: RecentIds;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly now: () => number;
}

type Decision =
  | { readonly kind: 'malformed'; readonly error: unknown }
  | { readonly kind: 'duplicate' }
  | { readonly kind: 'apply'; readonly notification: Notification; readonly invalidation: Invalidation };

/**
 * One delivery's way through the pipeline: parse → event → targets → every action → settle.
 * It never throws: a message is acknowledged once applied (or when it needs no write), parked when it
 * can never be applied, and left unsettled (to be redelivered) when the daemon stops before it is written.
 */
export class Processor {
  readonly #d: ProcessorDeps;

  constructor(deps: ProcessorDeps) {
    this.#d = deps;
  }

  readonly handle = async (delivery: Delivery): Promise<void> => {
    const decision = this.#decide(delivery);
    if (decision.kind === 'malformed') return this.#park(delivery, decision.error);
    const { metrics } = this.#d;
    // Settling happens outside the parse guard: a failing ack must not turn into a second settle.
    if (decision.kind === 'duplicate') {
      metrics.outcomes.inc({ outcome: 'duplicate' });
      delivery.ack();
      return;
    }
    const { notification: n, invalidation } = decision;
    const { targets } = invalidation;
    const { logger } = this.#d;
    // Fields rather than a child logger: most messages (failed logins) log nothing at info.
    const context = {
      messageId: n.messageId,
      eventType: n.eventType,
      envelope: n.envelopeVersion,
      redelivered: delivery.redelivered,
    };
    if (targets.length === 0) {
      metrics.outcomes.inc({ outcome: 'ignored' });
      logger.debug(context, 'no invalidation for this event');
      this.#remember(n.messageId);
      delivery.ack();
      return;
    }
    try {
      await Promise.all(this.#d.runners.map((r) => r.coverInvalidation(invalidation)));
    } catch (error) {
      if (error instanceof CoalescerStopped) {
        logger.info(context, 'stopping before the invalidation was written; the broker will redeliver it');
        return;
      }
      throw error;
    }
    this.#remember(n.messageId);
    delivery.ack();
    metrics.outcomes.inc({ outcome: 'applied' });
    if (n.timestamp !== null) metrics.lag.observe(Math.max(0, this.#d.now() - n.timestamp) / 1000);
    logger.info({ ...context, targets: targets.map((t) => t.kind) }, 'invalidation written');
  };

  /**
   * Notifications may have been lost before they reached us (see GapReason): invalidate everything, as
   * Keystone itself would, on every action. Resolves once written; the source consumes only then.
   */
  readonly fillGap = async (reason: GapReason, signal: AbortSignal): Promise<void> => {
    this.#d.metrics.gaps.inc({ reason });
    const invalidation: Invalidation = { event: UNKNOWN_EVENT, targets: [GLOBAL] };
    const written = Promise.all(this.#d.runners.map((r) => r.coverInvalidation(invalidation)));
    // A stop must not wait for memcached to come back: the caller gives up, the writes go on until the
    // runners stop, and the gap is seen again by whoever declares the queue next.
    written.catch(() => {});
    const stopped = new Promise<never>((_, reject) => {
      if (signal.aborted) reject(new CoalescerStopped());
      signal.addEventListener('abort', () => reject(new CoalescerStopped()), { once: true });
    });
    await Promise.race([written, stopped]);
    this.#d.logger.warn({ reason }, 'gap: global invalidation written');
  };

  /** Pure classification of a delivery (plus the received counter); no settling here. */
  #decide(delivery: Delivery): Decision {
    const { metrics } = this.#d;
    let notification: Notification;
    try {
      notification = parseEnvelope(delivery, this.#d.limits);
    } catch (error) {
      metrics.received.inc({ event_type: 'unparseable' });
      return { kind: 'malformed', error };
    }
    metrics.received.inc({ event_type: eventTypeLabel(notification.eventType) });
    const id = notification.messageId;
    if (id !== null && this.#d.recentIds.has(id)) return { kind: 'duplicate' };
    try {
      // Targets are always the targeted ones; an action may widen them (markers.mode: global).
      const event = toIdentityEvent(notification);
      return { kind: 'apply', notification, invalidation: { event, targets: targetsFor(event, 'targeted') } };
    } catch (error) {
      return { kind: 'malformed', error };
    }
  }

  #remember(messageId: string | null): void {
    if (messageId !== null) this.#d.recentIds.add(messageId);
  }

  #park(delivery: Delivery, error: unknown): void {
    const reason = error instanceof MalformedNotification ? error.reason : 'unexpected';
    this.#d.metrics.parked.inc({ reason });
    this.#d.metrics.outcomes.inc({ outcome: 'parked' });
    // The message itself is not logged: it may hold user names and addresses (CADF initiator).
    this.#d.logger.warn(
      { reason, error: (error as Error).message, redelivered: delivery.redelivered },
      'parked a notification that cannot be applied',
    );
    delivery.park();
  }
}
