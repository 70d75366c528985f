import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** What the revocation poller reports; the daemon's metrics implement it. */
export interface RevocationObserver {
  /** One poll of Keystone, by outcome, how long it took, and how many events in it were new. */
  polled(outcome: string, seconds: number, newEvents: number): void;
  /** The last successful poll and the newest `revoked_at` applied so far (epoch ms; null: none yet). */
  progress(lastSuccessMs: number, newestRevokedAtMs: number | null): void;
}

/** The revocation poller's metrics, on the daemon's registry; present (at 0) when the poller is off. */
export class RevocationMetrics implements RevocationObserver {
  readonly #polls: Counter<'outcome'>;
  readonly #events: Counter;
  readonly #duration: Histogram;
  readonly #lastSuccess: Gauge;
  readonly #newest: Gauge;
  readonly #now: () => number;
  #lastSuccessMs: number | null = null;
  /** When the poller started; null while it is off. */
  #started: number | null = null;

  constructor(registry: Registry, now: () => number = Date.now) {
    const registers = [registry];
    this.#polls = new Counter({
      name: 'kci_revocation_polls_total',
      help: 'Polls of Keystone for revocation events, by outcome: ok, unreachable, unauthorized, forbidden, bad-answer.',
      labelNames: ['outcome'],
      registers,
    });
    this.#events = new Counter({
      name: 'kci_revocation_events_total',
      help: 'Revocation events handed to the pipeline (new ones; an overlap seen again is not counted).',
      registers,
    });
    this.#duration = new Histogram({
      name: 'kci_revocation_poll_duration_seconds',
      help: 'Time of one poll of Keystone (authentication included when a token was asked for).',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.#lastSuccess = new Gauge({
      name: 'kci_revocation_last_success_timestamp_seconds',
      help: 'When the last poll of Keystone succeeded (Unix time); 0 before the first.',
      registers,
    });
    const metrics = this;
    new Gauge({
      name: 'kci_revocation_poll_age_seconds',
      help: 'Seconds since the last successful poll of Keystone (since the start before the first); 0 when the poller is off.',
      registers,
      collect() {
        if (metrics.#started !== null)
          this.set((now() - (metrics.#lastSuccessMs ?? metrics.#started)) / 1000);
      },
    });
    this.#newest = new Gauge({
      name: 'kci_revocation_newest_event_timestamp_seconds',
      help: 'The newest revoked_at among the revocation events applied (Unix time); 0 before the first.',
      registers,
    });
    this.#now = now;
  }

  /** The poller runs from now: its age counts from here until the first success. */
  started(): void {
    this.#started = this.#now();
  }

  polled(outcome: string, seconds: number, newEvents: number): void {
    this.#polls.inc({ outcome });
    this.#duration.observe(seconds);
    if (newEvents > 0) this.#events.inc(newEvents);
  }

  progress(lastSuccessMs: number, newestRevokedAtMs: number | null): void {
    this.#lastSuccessMs = lastSuccessMs;
    this.#lastSuccess.set(lastSuccessMs / 1000);
    if (newestRevokedAtMs !== null) this.#newest.set(newestRevokedAtMs / 1000);
  }
}
