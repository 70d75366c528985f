import type { MemcachedConnection } from '../adapters/memcached/connection.ts';
import type { Replayable } from '../ports/replayable.ts';

export interface RecoveryObserver {
  /** The server no longer holds this daemon's sentinel: it restarted, was flushed or evicted it. */
  wiped(server: string): void;
  replayed(server: string, action: string, items: number): void;
  replayFailed(server: string, action: string, error: unknown): void;
  /** Markers read back from a server after this daemon started (or why that failed). */
  readBack(server: string, found: number | Error): void;
}

/** Reads the markers a server holds into the markers action's memory; resolves with how many. */
export type MarkerReader = (server: MemcachedConnection, signal: AbortSignal) => Promise<number>;

export interface RecoverySettings {
  /** This process's own sentinel key: each replica must notice a wipe for itself. */
  readonly sentinelKey: string;
  readonly sentinelTtlSeconds: number;
  /** Every live marker is re-asserted on every server this often, against eviction (0: never). */
  readonly reassertEveryMs: number;
}

/** What recovery needs of the markers action: to owe a server every live marker. */
export interface MarkerDebts {
  owe(server: string): void;
}

/**
 * Brings servers back up to date. On each check (after every probe) it asks each reachable server for
 * this daemon's sentinel: a server that lost it lost the markers too, and is owed all of them. Then each
 * action replays what the server missed while it was away. A server that fails again keeps its backlog
 * for the next check.
 */
export class ServerRecovery {
  readonly #servers: readonly MemcachedConnection[];
  readonly #actions: readonly Replayable[];
  readonly #markers: MarkerDebts;
  readonly #settings: RecoverySettings;
  readonly #observer: RecoveryObserver;
  readonly #stop = new AbortController();
  /** Servers that have held the sentinel: a missing sentinel there means lost data. */
  readonly #seen = new Set<string>();
  #checking: Promise<void> | null = null;
  #reassert: NodeJS.Timeout | null = null;

  constructor(
    servers: readonly MemcachedConnection[],
    actions: readonly Replayable[],
    markers: MarkerDebts,
    settings: RecoverySettings,
    observer: RecoveryObserver,
  ) {
    this.#servers = servers;
    this.#actions = actions;
    this.#markers = markers;
    this.#settings = settings;
    this.#observer = observer;
    if (settings.reassertEveryMs > 0) {
      this.#reassert = setInterval(() => {
        for (const server of servers) markers.owe(server.name);
      }, settings.reassertEveryMs);
      this.#reassert.unref();
    }
  }

  /** One pass over the reachable servers; a call during a pass waits for that pass. */
  check(): Promise<void> {
    if (this.#stop.signal.aborted) return Promise.resolve();
    this.#checking ??= Promise.all(this.#servers.filter((s) => s.up).map((s) => this.#recover(s)))
      .then(() => undefined)
      .finally(() => {
        this.#checking = null;
      });
    return this.#checking;
  }

  /**
   * After this daemon starts it remembers no marker: read back what each reachable server holds and owe
   * it to every server, so one that was away during the restart still gets markers written before it.
   */
  async readBack(read: MarkerReader): Promise<void> {
    const found = await Promise.all(
      this.#servers
        .filter((s) => s.up)
        .map(async (server) => {
          try {
            const count = await read(server, this.#stop.signal);
            this.#observer.readBack(server.name, count);
            return count;
          } catch (error) {
            if (!this.#stop.signal.aborted) this.#observer.readBack(server.name, error as Error);
            return 0;
          }
        }),
    );
    if (found.some((n) => n > 0)) for (const server of this.#servers) this.#markers.owe(server.name);
  }

  stop(): void {
    this.#stop.abort();
    if (this.#reassert) clearInterval(this.#reassert);
  }

  async #recover(server: MemcachedConnection): Promise<void> {
    const { sentinelKey, sentinelTtlSeconds } = this.#settings;
    try {
      if ((await server.touch(sentinelKey, sentinelTtlSeconds)) === 'NOT_FOUND') {
        if (this.#seen.has(server.name)) {
          this.#observer.wiped(server.name);
          this.#markers.owe(server.name);
        }
        await server.add(sentinelKey, '1', sentinelTtlSeconds);
      }
      this.#seen.add(server.name);
    } catch {
      return; // down again: the probe has marked it, the next check tries again
    }
    for (const action of this.#actions) {
      const items = action.pending(server.name);
      if (items === 0) continue;
      try {
        await action.replay(server.name, this.#stop.signal);
        this.#observer.replayed(server.name, action.name, items);
      } catch (error) {
        if (this.#stop.signal.aborted) return;
        this.#observer.replayFailed(server.name, action.name, error);
        return;
      }
    }
  }
}
