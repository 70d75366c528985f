import type { CacheServer } from '../ports/cache-server.ts';

export interface EveryServerObserver<Item> {
  /** At least one server has the item; every server that missed it has it in its backlog. */
  applied(item: Item): void;
  failed(item: Item, server: string, error: unknown): void;
}

/** Called with each server that missed items of a batch, so they are replayed when it is back. */
export type MissedHandler<Item> = (server: string, items: readonly Item[]) => void;

/** What happened to each item of a batch on one server, in the batch's order. */
export type ItemOutcomes = readonly PromiseSettledResult<unknown>[];

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
  const each = (server: CacheServer, items: readonly Item[]) =>
    Promise.allSettled(items.map((item) => operation(server, item)));
  return applyBatchOnEveryServer(servers, batch, each, observer, missed, what);
}

/**
 * applyOnEveryServer for an operation that takes the whole batch on one server (one pipelined request
 * rather than one per item) and tells what became of each item. An operation that fails as a whole
 * failed every item on that server.
 */
export function applyBatchOnEveryServer<Item>(
  servers: readonly CacheServer[],
  batch: readonly Item[],
  operation: (server: CacheServer, items: readonly Item[]) => Promise<ItemOutcomes>,
  observer: EveryServerObserver<Item>,
  missed: MissedHandler<Item>,
  what: string,
): Promise<void> {
  const { reachable, down } = splitByState(servers);
  for (const server of down) missed(server.name, batch);
  const perServer = reachable.map((server) => outcomesOn(server, batch, operation));
  return Promise.all(perServer).then((outcomes) => {
    const failures: unknown[] = [];
    reachable.forEach((server, j) => {
      const missedHere: Item[] = [];
      (outcomes[j] as ItemOutcomes).forEach((r, i) => {
        if (r.status === 'fulfilled') return;
        observer.failed(batch[i] as Item, server.name, r.reason);
        missedHere.push(batch[i] as Item);
      });
      if (missedHere.length > 0) missed(server.name, missedHere);
    });
    batch.forEach((item, i) => {
      let failedOn = 0;
      for (const o of outcomes) if (o[i]?.status === 'rejected') failedOn++;
      if (failedOn < reachable.length) observer.applied(item);
      else for (const o of outcomes) failures.push((o[i] as PromiseRejectedResult).reason);
    });
    throwIfFailed(failures, what);
  });
}

/** The operation's outcomes on one server; a rejection, or a throw, is every item's. */
function outcomesOn<Item>(
  server: CacheServer,
  batch: readonly Item[],
  operation: (server: CacheServer, items: readonly Item[]) => Promise<ItemOutcomes>,
): Promise<ItemOutcomes> {
  const everyItem = (reason: unknown): ItemOutcomes => batch.map(() => ({ status: 'rejected', reason }));
  try {
    return operation(server, batch).catch(everyItem);
  } catch (error) {
    return Promise.resolve(everyItem(error));
  }
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
