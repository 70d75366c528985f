import type { MalformedReason } from '../core/errors.ts';
import type { Invalidation } from './action.ts';

/**
 * Where invalidations come from: Keystone's notifications over AMQP 0-9-1 today; AMQP 1.0 and Keystone's
 * revocation events later. A source decodes what it receives into items (with the pure core), hands
 * each to the handler, and carries out the handler's settlement. An item never settled (the daemon
 * stopped, the connection went) is the origin's to give again: that is the at-least-once path.
 */
export interface SourceItem {
  /** The item's identity, for deduplication and logs (an oslo `message_id`); null when it has none. */
  readonly id: string | null;
  /** What it is, for the received metric and logs: an event type such as `identity.user.updated`. */
  readonly kind: string;
  /** The source that took it (`amqp091`, `amqp10`, `revocations`): a label of the metrics and logs. */
  readonly source: string;
  /** Where it came from, as log fields (redelivered, envelope version, …): never a payload. */
  readonly origin: Readonly<Record<string, string | number | boolean>>;
  readonly content: ItemContent;
}

export type ItemContent =
  /** Decoded: the event and its (targeted) targets; empty targets mean nothing to invalidate. */
  | {
      readonly decoded: true;
      readonly invalidation: Invalidation;
      /** When the origin says it happened (epoch ms), for the lag metric; null when it does not say. */
      readonly publishedAtMs: number | null;
    }
  /** It can never be applied, whatever is retried. `detail` never holds message content. */
  | { readonly decoded: false; readonly reason: MalformedReason | 'unexpected'; readonly detail: string };

/**
 * The handler's answer, which the source carries out: `applied` (every invalidation it implies is
 * written, or there was none: acknowledge), `parked` (it can never be applied: reject it for good, to
 * the dead-letter exchange where there is one), `retry` (not applied: give it back to be delivered again).
 */
export type Settlement =
  | { readonly outcome: 'applied' }
  | { readonly outcome: 'parked'; readonly reason: string }
  | { readonly outcome: 'retry' };

/** Settles an item at once when it can (nothing to write), or once its invalidation is written. */
export type ItemHandler = (item: SourceItem) => Settlement | Promise<Settlement>;

/**
 * Why invalidations may have been lost before they reached the source, whatever the source: the queue
 * it reads had to be created (it did not exist while events were published), the broker dropped
 * messages from it (a length limit, a TTL, a delivery limit), or a poll's window was lost (the origin
 * no longer holds events that far back).
 */
export type GapReason = 'queue-created' | 'messages-dropped' | 'poll-window-lost';

/**
 * Invalidates everything the gap may have hidden; resolves once that is written, rejects when `signal`
 * aborts first (the source is stopping).
 */
export type GapHandler = (gap: Gap, signal: AbortSignal) => Promise<void>;

export interface Gap {
  readonly reason: GapReason;
  /** The source's own words for it, for the log (e.g. the broker's `maxlen`). */
  readonly detail: string;
}

export interface Source {
  readonly name: string;
  /**
   * Whether readiness waits for this source. The broker's yes: without it no notification arrives.
   * The revocation poller's no: a central Keystone outage must not hold every region's rollout; it
   * has its own metrics and alarm.
   */
  readonly gatesReadiness: boolean;
  /**
   * Take items in the background, reconnecting on its own, until `stopTaking`. A detected gap is
   * reported to `onGap`, and taking waits until it has been filled.
   */
  start(handler: ItemHandler, onGap: GapHandler): void;
  /** True while the source can take items (a consumer is registered with the broker, say). */
  isTaking(): boolean;
  /** No new items after this (bounded by `deadline`, epoch ms); items handed out may still settle. */
  stopTaking(deadline: number): Promise<void>;
  /** Waits until every item handed out has settled, or `deadline` (epoch ms); returns how many did not. */
  drain(deadline: number): Promise<number>;
  /** Disconnect; what was not settled is left to the origin, to be given again. */
  close(): Promise<void>;
}
