import { readCachedToken } from '../core/cached-validation.ts';
import { GLOBAL, type Target, targetName } from '../core/targets.ts';
import { isAffected, tokenSubjects } from '../core/token-subjects.ts';
import type { Matches } from '../core/validation-index.ts';
import type { Action, Invalidation } from '../ports/action.ts';
import {
  type CacheServer,
  isTextProtocolKey,
  type KeyListing,
  type ListedKey,
  type ListingLimits,
} from '../ports/cache-server.ts';
import type { Replayable } from '../ports/replayable.ts';
import { splitByState, throwIfFailed } from './every-server.ts';
import type { PurgeIndexLookup } from './purge-index.ts';
import { ServerBacklog } from './server-backlog.ts';

export interface MiddlewarePurgeSettings {
  readonly keyPrefix: string;
  readonly batchSize: number;
  readonly deleteAllOnGlobal: boolean;
  readonly deleteUnreadable: boolean;
  readonly repeatAfterMs: number;
  readonly scanTimeoutMs: number;
  readonly scanIdleMs: number;
  readonly scanMaxKeys: number;
}

export type DeleteReason = 'matched' | 'unreadable' | 'global';

/** The limits of a key listing (purge scans, marker read-back, the CLI's listing), from the settings. */
export function scanLimits(s: {
  readonly scanTimeoutMs: number;
  readonly scanIdleMs: number;
  readonly scanMaxKeys: number;
}): ListingLimits {
  return { timeoutMs: s.scanTimeoutMs, idleMs: s.scanIdleMs, maxKeys: s.scanMaxKeys };
}

export interface PurgeObserver {
  /** How a purge found the entries on a server: from its index, or by scanning it. */
  looked(server: string, how: 'index' | 'scan'): void;
  scanned(server: string, keys: number, seconds: number, listing: KeyListing): void;
  deleted(server: string, reason: DeleteReason, count: number): void;
  failed(server: string, error: unknown): void;
}

const SCAN_LANE = 'scan';
/** A gets batch stops growing past this many bytes of values, whatever batchSize says. */
const BATCH_BYTES = 4 * 2 ** 20;
/** Targets one unreachable server may accumulate before its replay becomes a purge of everything. */
const BACKLOG_LIMIT = 10_000;

/**
 * Deletes keystonemiddleware's cached validations (`tokens/…`) that an invalidation applies to, on every
 * server, so stock auth_token re-validates them. Entries are deleted, never overwritten: auth_token
 * answers 500 for a cached value it cannot parse. All targets share one lane, so at most one scan runs
 * and every event arriving during it is served by the next.
 */
export class MiddlewarePurgeAction implements Action<Target>, Replayable {
  readonly name = 'middlewarePurge';
  readonly repeatAfterMs: number;
  readonly #servers: readonly CacheServer[];
  readonly #settings: MiddlewarePurgeSettings;
  readonly #observer: PurgeObserver;
  readonly #limits: ListingLimits;
  readonly #indexes: ReadonlyMap<string, PurgeIndexLookup>;
  readonly #missed = new ServerBacklog<Target>(targetName, BACKLOG_LIMIT, () => [GLOBAL]);

  /**
   * `indexes`: per server name, the index of its cached validations (actions/purge-index.ts). A
   * purge on a server with a trusted index deletes what the index names; otherwise it scans.
   */
  constructor(
    servers: readonly CacheServer[],
    settings: MiddlewarePurgeSettings,
    observer: PurgeObserver,
    indexes: ReadonlyMap<string, PurgeIndexLookup> = new Map(),
  ) {
    this.#servers = servers;
    this.#settings = settings;
    this.#observer = observer;
    this.#indexes = indexes;
    this.repeatAfterMs = settings.repeatAfterMs;
    this.#limits = scanLimits(settings);
  }

  plan(invalidation: Invalidation): readonly Target[] {
    return invalidation.targets;
  }

  laneOf(): string {
    return SCAN_LANE;
  }

  itemKey(target: Target): string {
    return targetName(target);
  }

  async apply(batch: readonly Target[], signal: AbortSignal): Promise<void> {
    const targets = this.#purgeable(batch);
    if (targets.size === 0) return;
    const { reachable, down } = splitByState(this.#servers);
    for (const server of down) this.#missed.add(server.name, batch);
    const results = await Promise.allSettled(reachable.map((server) => this.#purge(server, targets, signal)));
    const failures = results.flatMap((r, i) => {
      if (r.status === 'fulfilled') return [];
      const server = (reachable[i] as CacheServer).name;
      this.#missed.add(server, batch);
      return [this.#failure(server, r.reason)];
    });
    // Servers that missed the purge replay it when they are back; only a purge that reached none fails.
    if (failures.length === reachable.length) throwIfFailed(failures, 'middleware purge');
  }

  pending(server: string): number {
    return this.#missed.pending(server);
  }

  async replay(name: string, signal: AbortSignal): Promise<void> {
    const server = this.#servers.find((s) => s.name === name);
    if (server === undefined) return;
    await this.#missed.replay(name, async (missed) => {
      const targets = this.#purgeable(missed);
      if (targets.size === 0) return;
      try {
        await this.#purge(server, targets, signal);
      } catch (error) {
        throw this.#failure(name, error);
      }
    });
  }

  #purgeable(batch: readonly Target[]): Set<string> {
    const targets = new Set(batch.map(targetName));
    // Without deleteAllOnGlobal a global invalidation leaves auth_token's cache alone: purging everything
    // makes every service in the region re-validate every token across the WAN.
    if (!this.#settings.deleteAllOnGlobal) targets.delete('global');
    return targets;
  }

  /** Observed, and passed on: the cache server's errors name their server already. */
  #failure(server: string, error: unknown): unknown {
    this.#observer.failed(server, error);
    return error;
  }

  async #purge(server: CacheServer, targets: ReadonlySet<string>, signal: AbortSignal): Promise<void> {
    const index = this.#indexes.get(server.name);
    const found = index === undefined ? null : await index.lookup(targets);
    if (index === undefined || found === null) return this.#scan(server, targets, signal);
    this.#observer.looked(server.name, 'index');
    // A key stored again while it was deleted stays: its new entry is on the server.
    index.forget(await this.#purgeIndexed(server, found, targets.has('global'), signal), found.asOf);
  }

  /** Deletes what the index names (a cost in proportion to what is deleted); returns what it deleted. */
  async #purgeIndexed(
    server: CacheServer,
    found: Matches,
    global: boolean,
    signal: AbortSignal,
  ): Promise<string[]> {
    // As the scan does: a global purge deletes every entry; otherwise an unreadable one may be the
    // subject's (strategy ENCRYPT) and goes too, unless deleteUnreadable says otherwise.
    const groups: Array<[readonly string[], DeleteReason]> = global
      ? [[[...found.matched, ...found.unreadable], 'global']]
      : [
          [found.matched, 'matched'],
          [this.#settings.deleteUnreadable ? found.unreadable : [], 'unreadable'],
        ];
    for (const [keys, reason] of groups) {
      for (let i = 0; i < keys.length; i += this.#settings.batchSize) {
        signal.throwIfAborted();
        await this.#delete(server, keys.slice(i, i + this.#settings.batchSize), reason);
      }
    }
    return groups.flatMap(([keys]) => keys);
  }

  /** Every key listed, every value read: without a trusted index. */
  async #scan(server: CacheServer, targets: ReadonlySet<string>, signal: AbortSignal): Promise<void> {
    this.#observer.looked(server.name, 'scan');
    const started = performance.now();
    const listing = await server.listKeys(this.#settings.keyPrefix, this.#limits, signal);
    // auth_token's keys are printable ASCII; anything else cannot be one of its entries (nor fetched).
    const entries = listing.keys.filter((k) => isTextProtocolKey(k.key));
    this.#observer.scanned(server.name, entries.length, (performance.now() - started) / 1000, listing);
    if (targets.has('global')) {
      for (const chunk of batches(entries, this.#settings.batchSize, Number.POSITIVE_INFINITY)) {
        signal.throwIfAborted();
        await this.#delete(server, chunk, 'global');
      }
      return;
    }
    for (const chunk of batches(entries, this.#settings.batchSize, BATCH_BYTES)) {
      signal.throwIfAborted();
      const items = await server.gets(chunk);
      const matched: string[] = [];
      const unreadable: string[] = [];
      for (const [key, item] of items) {
        const token = readCachedToken(item.value, item.flags);
        if (token === null) unreadable.push(key);
        else if (isAffected(tokenSubjects(token), targets)) matched.push(key);
      }
      await this.#delete(server, matched, 'matched');
      // An entry we cannot read (strategy ENCRYPT) may belong to the subject: it goes too.
      if (this.#settings.deleteUnreadable) await this.#delete(server, unreadable, 'unreadable');
    }
  }

  async #delete(server: CacheServer, keys: readonly string[], reason: DeleteReason): Promise<void> {
    if (keys.length === 0) return;
    await Promise.all(keys.map((key) => server.delete(key)));
    this.#observer.deleted(server.name, reason, keys.length);
  }
}

/** Keys in groups of at most `count` keys and (past the first key) `maxBytes` of values. */
function* batches(entries: readonly ListedKey[], count: number, maxBytes: number): Generator<string[]> {
  let batch: string[] = [];
  let bytes = 0;
  for (const { key, size } of entries) {
    if (batch.length > 0 && (batch.length >= count || bytes + size > maxBytes)) {
      yield batch;
      batch = [];
      bytes = 0;
    }
    batch.push(key);
    bytes += size;
  }
  if (batch.length > 0) yield batch;
}
