import type { MemcachedConnection } from '../adapters/memcached/connection.ts';

/**
 * Runs one operation on every server at once and returns the errors of those that failed (none: every
 * server has it). Each failure is reported with its server before it is returned.
 */
export async function onEveryServer(
  servers: readonly MemcachedConnection[],
  operation: (server: MemcachedConnection) => Promise<unknown>,
  onFailure: (server: string, error: unknown) => void,
): Promise<unknown[]> {
  const results = await Promise.allSettled(servers.map(operation));
  const failures: unknown[] = [];
  results.forEach((r, i) => {
    if (r.status === 'fulfilled') return;
    onFailure((servers[i] as MemcachedConnection).name, r.reason);
    failures.push(r.reason);
  });
  return failures;
}

/** Fails a batch when any server missed any of it; the coalescer then retries the batch. */
export function throwIfFailed(failures: readonly unknown[], what: string): void {
  if (failures.length > 0)
    throw new AggregateError(failures, `${what} failed on ${failures.length} server(s); retrying`);
}
