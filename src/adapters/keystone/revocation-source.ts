import { MalformedNotification } from '../../core/errors.ts';
import { NO_EVENT } from '../../core/events.ts';
import { RevocationCursor } from '../../core/revocation-cursor.ts';
import { type DecodedRevocation, parseRevocationEvents } from '../../core/revocation-events.ts';
import type { Logger } from '../../observability/logger.ts';
import type { RevocationObserver } from '../../observability/revocation-metrics.ts';
import { throttled } from '../../observability/throttle.ts';
import type { GapHandler, ItemHandler, Settlement, Source, SourceItem } from '../../ports/source.ts';
import { type BackoffPolicy, backoffDelay, sleep } from '../../util/backoff.ts';
import { errorMessage } from '../../util/errors.ts';
import { KeystoneError, type PollOutcome } from './errors.ts';

/** Where the events come from: Keystone (client.ts), or a test's stand-in. */
export interface RevocationFeed {
  /** Keystone's origin, for logs. */
  readonly endpoint: string;
  /** The body of `GET /v3/OS-REVOKE/events?since=…`; rejects with a KeystoneError. */
  revocationEvents(sinceMs: number, signal?: AbortSignal): Promise<string>;
  close(): void;
}

export interface RevocationSettings {
  readonly intervalMs: number;
  readonly jitter: number;
  readonly lookBackSeconds: number;
  readonly retentionSeconds: number;
  readonly overlapSeconds: number;
  readonly dedupeWindow: number;
  readonly retry: BackoffPolicy;
}

/** One warning per kind of failure per interval, however often the poll fails meanwhile. */
const FAILURE_LOG_INTERVAL_MS = 30_000;

/**
 * Keystone's revocation events as a source: the only way a region learns of a token revoked with
 * `DELETE /v3/auth/tokens`, which puts nothing on the bus. It polls every `intervalMs` (jittered),
 * asking for the events since the newest it applied (less an overlap; unchanged while nothing new
 * arrives), hands the new ones to the pipeline, and moves on once all are applied. At start it looks
 * back `lookBackSeconds`, so a restarted daemon applies again what a cache may still hold. A poll that
 * succeeds after more than `retentionSeconds` without one is a gap: Keystone may have pruned events.
 */
export class RevocationSource implements Source {
  readonly name = 'revocations';
  readonly gatesReadiness = false;
  readonly #settings: RevocationSettings;
  readonly #feed: RevocationFeed;
  readonly #observer: RevocationObserver;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #stop = new AbortController();
  /** The failure line, at once on a new kind of failure, then at most once per interval. */
  readonly #report: (suppressed: number, error: unknown, outcome: string) => void;
  readonly #reportThrottled: (error: unknown, outcome: string) => void;
  #loop: Promise<void> = Promise.resolve();
  #inFlight: Promise<unknown> | null = null;
  #healthy = false;
  #failing: string | null = null;
  #lastSuccessMs: number | null = null;

  constructor(
    settings: RevocationSettings,
    feed: RevocationFeed,
    observer: RevocationObserver,
    log: Logger,
    now: () => number = Date.now,
  ) {
    this.#settings = settings;
    this.#feed = feed;
    this.#observer = observer;
    this.#log = log;
    this.#now = now;
    this.#report = (suppressed, error, outcome) => {
      // Unreachable is an outage that passes; refused or unreadable answers need an operator.
      const level = outcome === 'unreachable' ? 'warn' : 'error';
      this.#log[level](
        { keystone: feed.endpoint, outcome, error: errorMessage(error), suppressed },
        'cannot poll Keystone for revocation events; retrying',
      );
    };
    this.#reportThrottled = throttled(FAILURE_LOG_INTERVAL_MS, this.#report);
  }

  start(handler: ItemHandler, onGap: GapHandler): void {
    this.#loop = this.#run(handler, onGap);
  }

  /** True while the last poll succeeded. */
  isTaking(): boolean {
    return this.#healthy && !this.#stop.signal.aborted;
  }

  async stopTaking(): Promise<void> {
    this.#stop.abort();
  }

  async drain(deadline: number): Promise<number> {
    const inFlight = this.#inFlight;
    if (inFlight === null) return 0;
    const timer = new AbortController();
    const settled = await Promise.race([
      inFlight.then(() => true),
      sleep(Math.max(0, deadline - this.#now()), timer.signal).then(() => false),
    ]);
    timer.abort();
    return settled ? 0 : 1;
  }

  async close(): Promise<void> {
    this.#stop.abort();
    await this.#loop;
    this.#feed.close();
  }

  async #run(handler: ItemHandler, onGap: GapHandler): Promise<void> {
    const s = this.#settings;
    const signal = this.#stop.signal;
    const cursor = new RevocationCursor(
      this.#now() - s.lookBackSeconds * 1000,
      s.overlapSeconds * 1000,
      s.dedupeWindow,
    );
    for (let failures = 0; !signal.aborted; ) {
      const started = performance.now();
      try {
        const decoded = parseRevocationEvents(await this.#feed.revocationEvents(cursor.sinceMs, signal));
        await this.#fillGapIfAny(onGap, signal);
        const fresh = cursor.unseen(decoded);
        this.#succeeded(started, fresh.length);
        failures = 0;
        const applying = this.#apply(fresh, cursor, handler);
        this.#inFlight = applying;
        await applying;
        this.#inFlight = null;
        this.#observer.progress(this.#lastSuccessMs as number, cursor.newestMs);
      } catch (error) {
        if (signal.aborted) break;
        this.#failed(started, error);
        await sleep(backoffDelay(failures++, s.retry), signal);
        continue;
      }
      await sleep(jittered(s.intervalMs, s.jitter), signal);
    }
  }

  /** Keystone keeps events for `retentionSeconds`: after a longer silence some may be gone unseen. */
  async #fillGapIfAny(onGap: GapHandler, signal: AbortSignal): Promise<void> {
    const last = this.#lastSuccessMs;
    const silentSeconds = last === null ? 0 : (this.#now() - last) / 1000;
    if (silentSeconds <= this.#settings.retentionSeconds) return;
    const detail = `no successful poll for ${Math.round(silentSeconds)} s, longer than Keystone keeps events`;
    this.#log.warn({ keystone: this.#feed.endpoint }, `revocation events may have been missed: ${detail}`);
    await onGap({ reason: 'poll-window-lost', detail }, signal);
  }

  /** Hand out the new events together; `since` moves past them only when every one is settled. */
  async #apply(fresh: readonly DecodedRevocation[], cursor: RevocationCursor, handler: ItemHandler) {
    const settlements = await Promise.all(fresh.map((d) => handler(revocationItem(d))));
    let complete = true;
    settlements.forEach((settlement: Settlement, i) => {
      const d = fresh[i] as DecodedRevocation;
      if (settlement.outcome === 'retry') complete = false;
      else cursor.record(d.key, d.ok ? d.event.revokedAtMs : null);
    });
    if (complete) cursor.commit();
    else cursor.abandon();
  }

  #succeeded(started: number, newEvents: number): void {
    this.#lastSuccessMs = this.#now();
    this.#healthy = true;
    this.#observer.polled('ok', (performance.now() - started) / 1000, newEvents);
    if (this.#failing !== null) {
      this.#log.info({ keystone: this.#feed.endpoint, after: this.#failing }, 'polling Keystone again');
      this.#failing = null;
    }
  }

  #failed(started: number, error: unknown): void {
    const outcome: PollOutcome = error instanceof KeystoneError ? error.outcome : 'bad-answer';
    this.#healthy = false;
    this.#observer.polled(outcome, (performance.now() - started) / 1000, 0);
    if (!(error instanceof KeystoneError) && !(error instanceof MalformedNotification)) {
      this.#log.error({ error: errorMessage(error) }, 'unexpected failure polling Keystone');
    }
    if (this.#failing === outcome) this.#reportThrottled(error, outcome);
    else this.#report(0, error, outcome);
    this.#failing = outcome;
  }
}

/** A revocation event as a source item: targets directly, no Keystone event behind them. */
function revocationItem(d: DecodedRevocation): SourceItem {
  if (!d.ok) {
    return {
      id: d.key,
      kind: 'revocation',
      source: 'revocations',
      origin: {},
      content: { decoded: false, reason: d.reason, detail: d.detail },
    };
  }
  const { event } = d;
  return {
    id: event.key,
    kind: 'revocation',
    source: 'revocations',
    origin: { revokedAt: new Date(event.revokedAtMs).toISOString() },
    content: {
      decoded: true,
      invalidation: { event: NO_EVENT, targets: event.targets },
      publishedAtMs: event.revokedAtMs,
    },
  };
}

function jittered(ms: number, jitter: number): number {
  return Math.round(ms * (1 - jitter + Math.random() * 2 * jitter));
}
