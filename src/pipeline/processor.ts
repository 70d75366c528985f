import { NO_EVENT } from '../core/events.ts';
import type { RecentIds } from '../core/recent-ids.ts';
import { GLOBAL } from '../core/targets.ts';
import type { ItemLines } from '../observability/item-lines.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import { eventTypeLabel } from '../observability/metrics.ts';
import type { Invalidation } from '../ports/action.ts';
import type { Gap, ItemContent, Settlement, SourceItem } from '../ports/source.ts';
import { CoalescerStopped, type InvalidationRunner } from './coalescer.ts';

export interface ProcessorDeps {
  readonly runners: readonly InvalidationRunner[];
  readonly recentIds: RecentIds;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** The per-item lines' budget: a drain writes a handful a second, not one per item. */
  readonly itemLines: ItemLines;
  readonly now: () => number;
}

type Decoded = Extract<ItemContent, { decoded: true }>;

const APPLIED: Settlement = Object.freeze({ outcome: 'applied' });
const RETRY: Settlement = Object.freeze({ outcome: 'retry' });
const PARKED = 'parked a notification that cannot be applied';
const WRITTEN = 'invalidation written';

/**
 * One item's way through the pipeline, whatever source it came from: deduplicate → every action →
 * the settlement the source carries out. It never throws: an item is `applied` once written (or when it
 * needs no write), `parked` when it can never be applied, and `retry` when the daemon stops before it
 * is written (the origin gives it again).
 */
export class Processor {
  readonly #d: ProcessorDeps;

  constructor(deps: ProcessorDeps) {
    this.#d = deps;
  }

  readonly handle = (item: SourceItem): Settlement | Promise<Settlement> => {
    const { metrics, logger, itemLines, runners } = this.#d;
    const { content } = item;
    const source = item.source;
    metrics.received.count(eventTypeLabel(item.kind), source);
    if (!content.decoded) {
      metrics.parked.count(content.reason, source);
      metrics.outcomes.count('parked', source);
      // The message itself is never logged: it may hold user names and addresses (CADF initiator).
      if (itemLines.allow('warn', PARKED)) {
        logger.warn({ ...logFields(item), reason: content.reason, error: content.detail }, PARKED);
      }
      return { outcome: 'parked', reason: content.reason };
    }
    if (item.id !== null && this.#d.recentIds.has(item.id)) {
      metrics.outcomes.count('duplicate', source);
      return APPLIED;
    }
    const { invalidation } = content;
    if (invalidation.targets.length === 0) {
      metrics.outcomes.count('ignored', source);
      // Not remembered: it costs nothing to ignore again, and failed logins (most of the traffic) would
      // push the ids of applied invalidations out of the window.
      if (logger.isLevelEnabled('debug')) logger.debug(logFields(item), 'no invalidation for this event');
      return APPLIED;
    }
    // One promise per item, not an async function's and Promise.all's: in a drain it was a cost of its own.
    let written: Promise<unknown>;
    try {
      written =
        runners.length === 1
          ? (runners[0] as InvalidationRunner).coverInvalidation(invalidation)
          : Promise.all(runners.map((r) => r.coverInvalidation(invalidation)));
    } catch (error) {
      written = Promise.reject(error);
    }
    return written.then(
      () => this.#applied(item, content),
      (error: unknown) => this.#notWritten(item, error),
    );
  };

  #applied(item: SourceItem, content: Decoded): Settlement {
    const { metrics, logger, itemLines } = this.#d;
    if (item.id !== null) this.#d.recentIds.add(item.id);
    metrics.outcomes.count('applied', item.source);
    if (content.publishedAtMs !== null) {
      metrics.lag.observe(Math.max(0, this.#d.now() - content.publishedAtMs) / 1000);
    }
    if (itemLines.allow('info', WRITTEN)) {
      logger.info({ ...logFields(item), targets: content.invalidation.targets.map((t) => t.kind) }, WRITTEN);
    }
    return APPLIED;
  }

  #notWritten(item: SourceItem, error: unknown): Settlement {
    if (!(error instanceof CoalescerStopped)) throw error;
    this.#d.logger.info(
      logFields(item),
      'stopping before the invalidation was written; it will be delivered again',
    );
    return RETRY;
  }

  /**
   * Invalidations may have been lost before they reached a source (see GapReason): invalidate
   * everything, as Keystone itself would, on every action. Resolves once written; the source takes
   * items only then.
   */
  readonly fillGap = async (gap: Gap, signal: AbortSignal): Promise<void> => {
    this.#d.metrics.gaps.inc({ reason: gap.reason });
    const invalidation: Invalidation = { event: NO_EVENT, targets: [GLOBAL] };
    const written = Promise.all(this.#d.runners.map((r) => r.coverInvalidation(invalidation)));
    // A stop must not wait for memcached to come back: the caller gives up, the writes go on until the
    // runners stop, and the gap is seen again by whoever declares the queue next.
    written.catch(() => {});
    const stopped = new Promise<never>((_, reject) => {
      if (signal.aborted) reject(new CoalescerStopped());
      signal.addEventListener('abort', () => reject(new CoalescerStopped()), { once: true });
    });
    await Promise.race([written, stopped]);
    this.#d.logger.warn({ reason: gap.reason, detail: gap.detail }, 'gap: global invalidation written');
  };
}

/**
 * An item's log fields, rather than a child logger, built only for a line that is written: most items
 * (failed logins) log nothing at info, and a drain writes a few lines a second (ItemLines).
 */
function logFields(item: SourceItem) {
  return { messageId: item.id, eventType: item.kind, source: item.source, ...item.origin };
}
