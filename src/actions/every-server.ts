import type { MemcachedConnection } from '../adapters/memcached/connection.ts';

export interface EveryServerObserver<Item> {
  /** Every server has the item applied. */
  applied(item: Item): void;
  failed(item: Item, server: string, error: unknown): void;
}

/**
 * Applies each item of a batch on every server at once. Each miss is reported with its server; the
 * promise rejects when any server missed any item, so the coalescer retries the batch (re-applying an
 * item is harmless: every operation here is idempotent).
 */
export async function applyOnEveryServer<Item>(
  servers: readonly MemcachedConnection[],
  batch: readonly Item[],
  operation: (server: MemcachedConnection, item: Item) => Promise<unknown>,
  observer: EveryServerObserver<Item>,
  what: string,
): Promise<void> {
  const failures = await Promise.all(
    batch.map(async (item) => {
      const results = await Promise.allSettled(servers.map((server) => operation(server, item)));
      const failed = results.flatMap((r, i) => {
        if (r.status === 'fulfilled') return [];
        observer.failed(item, (servers[i] as MemcachedConnection).name, r.reason);
        return [r.reason];
      });
      if (failed.length === 0) observer.applied(item);
      return failed;
    }),
  );
  throwIfFailed(failures.flat(), what);
}

/** Fails a batch when any server missed any of it; the coalescer then retries the batch. */
export function throwIfFailed(failures: readonly unknown[], what: string): void {
  if (failures.length > 0)
    throw new AggregateError(failures, `${what} failed on ${failures.length} server(s); retrying`);
}
