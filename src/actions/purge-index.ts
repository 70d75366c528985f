import type { Matches } from '../core/validation-index.ts';
import { CacheProtocolError } from '../ports/cache-errors.ts';
import type { CacheServer, CacheWatch, ListingLimits } from '../ports/cache-server.ts';
import { type BackoffPolicy, backoffDelay, sleep } from '../util/backoff.ts';
import { ValidationFeed } from './validation-feed.ts';
import { WatchFences } from './watch-fences.ts';
import { WatchLosses } from './watch-losses.ts';

/** Losses that a listing repairs while the watch goes on; any other loss rebuilds from scratch. */
const RESYNCED: ReadonlySet<DistrustReason> = new Set<DistrustReason>(['skipped', 'dropped']);
const LOSS_CHECK_MS = 1_000;

export interface PurgeIndexSettings {
  /** keystonemiddleware's key prefix (`tokens/`). */
  readonly keyPrefix: string;
  /** This process's own fence keys (`<markers.prefix>:fence:<uuid>:`): other replicas' are not ours. */
  readonly fencePrefix: string;
  readonly maxEntries: number;
  readonly reconcileEveryMs: number;
  /** A store this often keeps memcached's logger awake (idle, it sleeps up to a second between passes). */
  readonly heartbeatMs: number;
  readonly fenceTimeoutMs: number;
  readonly readBatchSize: number;
  readonly listing: ListingLimits;
  readonly retry: BackoffPolicy;
}

/** Why a server's index stopped being trusted; a rebuild follows. */
export type DistrustReason =
  | 'skipped'
  | 'dropped'
  | 'watch-ended'
  | 'wiped'
  | 'read-failed'
  | 'fence-timeout'
  | 'ceiling';

export interface PurgeIndexObserver {
  trusted(server: string, entries: number, seconds: number): void;
  distrusted(server: string, reason: DistrustReason): void;
  skipped(server: string, lines: number): void;
  /** The index cannot be built on this server (no watchers, no listing); purges scan it. */
  failed(server: string, error: unknown, unsupported: boolean): void;
}

/** What a purge asks of an index. */
export interface PurgeIndexLookup {
  /** The entries a purge of `targets` must delete, complete up to now; null: scan the server instead. */
  lookup(targets: ReadonlySet<string>): Promise<Matches | null>;
  /** The purge deleted these, named by the answer `asOf` (Matches.asOf). */
  forget(keys: readonly string[], asOf: number): void;
}

/**
 * Per memcached server, the index of keystonemiddleware's cached validations (`core/validation-index`):
 * built from one listing (each value read once, in batches), kept current from memcached's watcher
 * (`watch mutations evictions deletions`), and reconciled with a listing every `reconcileEveryMs`. A
 * skipped watcher line, a lost watch connection, a wiped server, a failed read or a fence that does not
 * come back makes it untrusted until rebuilt; meanwhile purges scan, as without an index.
 *
 * Complete up to now: before answering, a lookup writes two fences of its own and waits to see them in
 * the watch. memcached's logger collects each worker thread's lines in passes, so a store logged before
 * the first fence may arrive one pass after it, never after the second.
 */
export class ServerPurgeIndex implements PurgeIndexLookup {
  readonly #server: CacheServer;
  readonly #s: PurgeIndexSettings;
  readonly #observer: PurgeIndexObserver;
  readonly #now: () => number;
  readonly #feed: ValidationFeed;
  readonly #fences: WatchFences;
  #watch: CacheWatch | null = null;
  #heartbeat: NodeJS.Timeout | null = null;
  #trusted = false;
  #lost: PromiseWithResolvers<DistrustReason> | null = null;
  #lossReason: DistrustReason | null = null;
  #losses: WatchLosses;
  #lossCheck: NodeJS.Timeout | null = null;

  constructor(
    server: CacheServer,
    settings: PurgeIndexSettings,
    observer: PurgeIndexObserver,
    now = Date.now,
  ) {
    this.#server = server;
    this.#s = settings;
    this.#observer = observer;
    this.#now = now;
    this.#fences = new WatchFences(server, settings.fencePrefix, settings.fenceTimeoutMs);
    this.#losses = new WatchLosses(server);
    this.#feed = new ValidationFeed(server, settings.readBatchSize, () => this.#lose('read-failed'));
  }

  get name(): string {
    return this.#server.name;
  }

  get trusted(): boolean {
    return this.#trusted;
  }

  get entries(): number {
    return this.#feed.index.size;
  }

  /** The background task: build, keep and rebuild the index until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    for (let failures = 0; !signal.aborted; ) {
      let lost = this.#arm();
      let pause = backoffDelay(failures, this.#s.retry);
      try {
        await this.#build(signal);
        failures = 0;
        for (;;) {
          const reason = await Promise.race([lost, sleep(this.#s.reconcileEveryMs, signal).then(() => null)]);
          if (signal.aborted) break;
          if (reason !== null && !RESYNCED.has(reason)) {
            // Over the ceiling the cache is too big for the index: wait for it to shrink.
            if (reason === 'ceiling') pause = this.#s.reconcileEveryMs;
            break;
          }
          // The watch goes on: a listing makes the index whole again (lines were lost, or it is time).
          if (reason !== null) lost = this.#arm();
          await this.#resync(signal, reason !== null);
        }
      } catch (error) {
        if (signal.aborted) break;
        failures++;
        if (this.#lossReason === null) {
          // It failed on its own (a loss was reported as distrusted already).
          const unsupported = error instanceof CacheProtocolError;
          this.#observer.failed(this.name, error, unsupported);
          // A server without watchers (or listings) will not grow them soon: ask again now and then.
          if (unsupported) pause = this.#s.reconcileEveryMs;
        } else if (this.#lossReason === 'ceiling') {
          pause = this.#s.reconcileEveryMs;
        }
      }
      this.#teardown();
      await sleep(pause, signal);
    }
    this.#teardown();
  }

  /** From outside: the server lost its data (the recovery's sentinel says so). */
  distrust(reason: DistrustReason): void {
    this.#lose(reason);
  }

  async lookup(targets: ReadonlySet<string>): Promise<Matches | null> {
    if (!this.#trusted) return null;
    if (!(await this.#fences.pass())) {
      this.#lose('fence-timeout');
      return null;
    }
    try {
      if ((await this.#losses.sinceBaseline()) > 0) this.#lose('dropped');
    } catch {
      this.#lose('read-failed');
    }
    await this.#feed.drained();
    if (!this.#trusted) return null;
    // The index holds subjects by id (core/validation-index.ts): `user:abc` is looked up as `abc`.
    const ids = new Set([...targets].map((name) => name.slice(name.indexOf(':') + 1)));
    return this.#feed.index.matching(ids, this.#now(), targets.has('global'));
  }

  forget(keys: readonly string[], asOf: number): void {
    this.#feed.index.removeIfNotStoredSince(keys, asOf);
  }

  /** After `run` has ended: the index's own connection goes. */
  close(): void {
    this.#teardown();
    this.#server.close();
  }

  async #build(signal: AbortSignal): Promise<void> {
    const started = performance.now();
    await this.#losses.baseline();
    this.#watch = await this.#server.watch([this.#s.keyPrefix, this.#s.fencePrefix], {
      stored: (key, ttl) => this.#stored(key, ttl),
      removed: (key) => this.#feed.removed(key),
      skipped: (lines) => {
        this.#observer.skipped(this.name, lines);
        this.#lose('skipped');
      },
      ended: () => this.#lose('watch-ended'),
    });
    this.#heartbeat = setInterval(() => {
      this.#server.add(`${this.#s.fencePrefix}beat`, '1', 60).catch(() => {});
    }, this.#s.heartbeatMs);
    this.#heartbeat.unref();
    // Lost lines are looked for at every lookup, and every second, so a resync starts before one.
    this.#lossCheck = setInterval(() => {
      this.#losses.sinceBaseline().then(
        (lost) => lost > 0 && this.#lose('dropped'),
        () => {},
      );
    }, LOSS_CHECK_MS);
    this.#lossCheck.unref();
    await this.#takeListing(signal);
    this.#throwIfLost();
    this.#trusted = true;
    this.#observer.trusted(this.name, this.entries, (performance.now() - started) / 1000);
  }

  /**
   * A listing: what it holds that the index lacks is read, what the index holds unlisted goes. Lines
   * lost before it began are covered by it, so it counts losses from its start; after a loss it makes
   * the index trusted again.
   */
  async #resync(signal: AbortSignal, afterLoss: boolean): Promise<void> {
    const started = performance.now();
    const losses = new WatchLosses(this.#server);
    await losses.baseline();
    this.#losses = losses;
    const round = await this.#takeListing(signal);
    if (round !== null) this.#feed.index.removeUnseenSince(round);
    this.#feed.index.removeExpired(this.#now());
    if (afterLoss && this.#lost !== null && round !== null) {
      this.#trusted = true;
      this.#observer.trusted(this.name, this.entries, (performance.now() - started) / 1000);
    }
  }

  /** Lists the server and reads what is new; the round to reconcile against, or null if incomplete. */
  async #takeListing(signal: AbortSignal): Promise<number | null> {
    const round = this.#feed.nextRound();
    const listing = await this.#server.listKeys(this.#s.keyPrefix, this.#s.listing, signal);
    for (const { key, exp } of listing.keys) {
      this.#feed.listed(key, exp === null || exp < 0 ? Number.POSITIVE_INFINITY : exp * 1000, round);
    }
    this.#checkCeiling();
    await this.#feed.drained();
    return listing.complete ? round : null;
  }

  #stored(key: string, ttlSeconds: number): void {
    if (this.#fences.consume(key)) return;
    this.#feed.stored(key, ttlSeconds > 0 ? this.#now() + ttlSeconds * 1000 : Number.POSITIVE_INFINITY);
    this.#checkCeiling();
  }

  #checkCeiling(): void {
    if (this.#feed.size > this.#s.maxEntries) this.#lose('ceiling');
  }

  #lose(reason: DistrustReason): void {
    const lost = this.#lost;
    if (lost === null) return;
    this.#lost = null;
    this.#lossReason = reason;
    this.#trusted = false;
    this.#observer.distrusted(this.name, reason);
    lost.resolve(reason);
  }

  #throwIfLost(): void {
    if (this.#lost === null) throw new Error('the index was lost while it was built');
  }

  /** A new loss signal; what was lost before is forgotten. */
  #arm(): Promise<DistrustReason> {
    this.#lost = Promise.withResolvers<DistrustReason>();
    this.#lossReason = null;
    return this.#lost.promise;
  }

  #teardown(): void {
    this.#trusted = false;
    this.#lost = null;
    if (this.#heartbeat !== null) clearInterval(this.#heartbeat);
    if (this.#lossCheck !== null) clearInterval(this.#lossCheck);
    this.#heartbeat = null;
    this.#lossCheck = null;
    this.#watch?.close();
    this.#watch = null;
    this.#feed.clear();
    this.#fences.releaseAll();
  }
}
