import type { CacheServer } from '../ports/cache-server.ts';
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
export type MarkerReader = (server: CacheServer, signal: AbortSignal) => Promise<number>;

export interface RecoverySettings {
  /** This process's own sentinel key: each replica must notice a wipe for itself. */
  readonly sentinelKey: string;
  readonly sentinelTtlSeconds: number;
}

/** What recovery needs of the markers action: to owe a server every live marker. */
export interface MarkerDebts {
  owe(server: string): void;
}

/**
 * Brings servers back up to date. A probe asks every server for its version (which is how a server
 * that is back is found); then each reachable server is asked for this daemon's sentinel: a server
 * that lost it lost the markers too, and is owed all of them. Then each action replays what the server
 * missed while it was away. A server that fails again keeps its backlog for the next probe. The
 * daemon's background tasks call these on their schedule (probe, re-assertion, read-back), with the
 * signal that ends them.
 */
export class ServerRecovery {
  readonly #servers: readonly CacheServer[];
  readonly #actions: readonly Replayable[];
  readonly #markers: MarkerDebts;
  readonly #settings: RecoverySettings;
  readonly #observer: RecoveryObserver;
  /** Servers that have held the sentinel: a missing sentinel there means lost data. */
  readonly #seen = new Set<string>();
  #checking: Promise<void> | null = null;

  constructor(
    servers: readonly CacheServer[],
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
  }

  /** Probe every server (`version`), then bring each that answered up to date. */
  async probe(signal: AbortSignal): Promise<void> {
    await Promise.allSettled(this.#servers.map((s) => s.version()));
    await this.check(signal);
  }

  /** One pass over the reachable servers; a call during a pass waits for that pass. */
  check(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.resolve();
    this.#checking ??= Promise.all(this.#servers.filter((s) => s.up).map((s) => this.#recover(s, signal)))
      .then(() => undefined)
      .finally(() => {
        this.#checking = null;
      });
    return this.#checking;
  }

  /** Against eviction: every server is owed every live marker, given at the next probe. */
  reassertEverywhere(): void {
    for (const server of this.#servers) this.#markers.owe(server.name);
  }

  /**
   * After this daemon starts it remembers no marker: read back what each reachable server holds and owe
   * it to every server, so one that was away during the restart still gets markers written before it.
   */
  async readBack(read: MarkerReader, signal: AbortSignal): Promise<void> {
    const found = await Promise.all(
      this.#servers
        .filter((s) => s.up)
        .map(async (server) => {
          try {
            const count = await read(server, signal);
            this.#observer.readBack(server.name, count);
            return count;
          } catch (error) {
            if (!signal.aborted) this.#observer.readBack(server.name, toError(error));
            return 0;
          }
        }),
    );
    if (found.some((n) => n > 0)) this.reassertEverywhere();
  }

  async #recover(server: CacheServer, signal: AbortSignal): Promise<void> {
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
        await action.replay(server.name, signal);
        this.#observer.replayed(server.name, action.name, items);
      } catch (error) {
        if (signal.aborted) return;
        this.#observer.replayFailed(server.name, action.name, error);
        return;
      }
    }
  }
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
