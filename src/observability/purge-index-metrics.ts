import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** What the purge indexes report (actions/purge-index.ts), as metrics. */
export class PurgeIndexMetrics {
  readonly purges: Counter<'server' | 'how'>;
  readonly builds: Histogram<'server'>;
  readonly distrusted: Counter<'server' | 'reason'>;
  readonly skippedLines: Counter<'server'>;
  readonly failures: Counter<'server' | 'unsupported'>;
  #state: () => ReadonlyArray<{
    readonly server: string;
    readonly entries: number;
    readonly trusted: boolean;
  }> = () => [];

  constructor(registry: Registry) {
    const registers = [registry];
    this.purges = new Counter({
      name: 'kci_middleware_purges_total',
      help: "Purges on one server, by how the entries were found: index (the server's index was trusted) or scan (every key listed and read).",
      labelNames: ['server', 'how'],
      registers,
    });
    this.builds = new Histogram({
      name: 'kci_purge_index_build_seconds',
      help: "Time to build one server's index of cached validations (listing and reading every entry).",
      labelNames: ['server'],
      buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
      registers,
    });
    this.distrusted = new Counter({
      name: 'kci_purge_index_distrusted_total',
      help: "Times a server's index stopped being trusted (rebuilt; purges scan meanwhile), by reason: skipped, dropped, watch-ended, wiped, read-failed, fence-timeout, ceiling.",
      labelNames: ['server', 'reason'],
      registers,
    });
    this.skippedLines = new Counter({
      name: 'kci_purge_index_skipped_lines_total',
      help: 'Watch lines memcached dropped because the daemon fell behind (each makes the index untrusted).',
      labelNames: ['server'],
      registers,
    });
    this.failures = new Counter({
      name: 'kci_purge_index_failures_total',
      help: 'Index builds that failed; unsupported="true": the server has no watchers or listings (purges on it scan).',
      labelNames: ['server', 'unsupported'],
      registers,
    });
    const metrics = this;
    new Gauge({
      name: 'kci_purge_index_entries',
      help: "Cached validations in a server's index.",
      labelNames: ['server'],
      registers,
      collect() {
        for (const s of metrics.#state()) this.set({ server: s.server }, s.entries);
      },
    });
    new Gauge({
      name: 'kci_purge_index_trusted',
      help: "1 when a server's index is trusted (purges use it), else 0 (purges scan).",
      labelNames: ['server'],
      registers,
      collect() {
        for (const s of metrics.#state()) this.set({ server: s.server }, s.trusted ? 1 : 0);
      },
    });
  }

  /** Where the gauges read from at scrape time. */
  observe(state: () => ReadonlyArray<{ server: string; entries: number; trusted: boolean }>): void {
    this.#state = state;
  }
}
