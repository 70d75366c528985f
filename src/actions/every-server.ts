import type { CacheServer } from '../ports/cache-server.ts';

export interface EveryServerObserver<Item> {
  /** At least one server has the item; every server that missed it has it in its backlog. */
  applied(item: Item): void;
  failed(item: Item, server: string, error: unknown): void;
}

/** Called with each server that missed items of a batch, so they are replayed when it is back. */
export type MissedHandler<Item> = (server: string, items: readonly Item[]) => void;

/**
 * Applies each item of a batch on every server at once. A server the last probe or request found down
 * is not waited on: it misses the batch outright. Misses go to `missed` (the server's replay backlog);
 * the promise rejects only when some item reached no server at all, so the coalescer retries the batch
 * (re-applying an item is harmless: every operation here is idempotent).
 */
export function applyOnEveryServer<Item>(
  servers: readonly CacheServer[],
  batch: readonly Item[],
  operation: (server: CacheServer, item: Item) => Promise<unknown>,
  observer: EveryServerObserver<Item>,
  missed: MissedHandler<Item>,
  what: string,
): Promise<void> {
  const { reachable, down } = splitByState(servers);
  for (const server of down) missed(server.name, batch);
  // Every operation of the batch at once, one promise each and one for the lot: this runs per event
  // in a drain, so no promise per item around them.
  const operations: Promise<unknown>[] = [];
  for (const item of batch) for (const server of reachable) operations.push(operation(server, item));
  return Promise.allSettled(operations).then((results) => {
    const missedBy = new Map<CacheServer, Item[]>();
    const failures: unknown[] = [];
    batch.forEach((item, i) => {
      const failed: unknown[] = [];
      reachable.forEach((server, j) => {
        const r = results[i * reachable.length + j] as PromiseSettledResult<unknown>;
        if (r.status === 'fulfilled') return;
        observer.failed(item, server.name, r.reason);
        const missedHere = missedBy.get(server) ?? [];
        missedHere.push(item);
        missedBy.set(server, missedHere);
        failed.push(r.reason);
      });
      if (failed.length < reachable.length) observer.applied(item);
      else failures.push(...failed);
    });
    for (const [server, items] of missedBy) missed(server.name, items);
    throwIfFailed(failures, what);
  });
}

/**
 * The servers worth waiting on, and those to skip: a server known down would hold every batch for its
 * timeout. When every server is down each is tried, so a recovered server is found by the retry.
 */
export function splitByState(servers: readonly CacheServer[]): {
  reachable: readonly CacheServer[];
  down: readonly CacheServer[];
} {
  const up = servers.filter((s) => s.up);
  if (up.length === 0) return { reachable: servers, down: [] };
  return { reachable: up, down: servers.filter((s) => !s.up) };
}

/** Fails a batch when some item reached no server; the coalescer then retries the batch. */
export function throwIfFailed(failures: readonly unknown[], what: string): void {
  if (failures.length > 0)
    throw new AggregateError(failures, `${what} reached no server (${failures.length} failure(s)); retrying`);
}
